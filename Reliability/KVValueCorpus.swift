import BundleFormat
import Foundation
import KV
import TestFixtures

/// Malformed values at a bundle key a renderer watches: foreign bytes, other versions,
/// truncation, tampered content, lying headers, decompression bombs, broken chunk manifests.
/// `render --once` must fail naming the key and the reason and leave the delivered file alone;
/// `inspect` must refuse the same bytes.
struct KVValueCorpus {
    let root: String

    private struct Case {
        let input: String
        let value: [UInt8]
        let expected: [String]
        var chunks: [String: [UInt8]] = [:]
    }

    private static let goodFiles = [BundleFile(path: "settings.json", content: Array("{\"port\": 8080}\n".utf8))]

    private func cases() throws -> [Case] {
        let good = try BundleEncoder.encode(ConfigBundle(source: BundleForgery.source, commit: BundleForgery.commit, files: Self.goodFiles))
        let header = BundleForgery.header(Self.goodFiles)
        let contents = Self.goodFiles.map(\.content)
        var lyingDigest = header
        lyingDigest.digest = String(repeating: "0", count: 64)
        var escaping = header
        escaping.files[0].path = "../../etc/cron.d/evil"
        var flipped = good
        flipped[good.count / 2] ^= 0xFF
        let bombFiles = [BundleFile(path: "zeros", content: Array(repeating: 0, count: 80 << 20))]
        let bomb = try BundleForgery.frame(header: BundleForgery.header(bombFiles), contents: bombFiles.map(\.content))
        let chunk = Array(good[..<(good.count / 2)])
        let rest = Array(good[(good.count / 2)...])
        func manifest(_ chunks: [(sha: String, size: Int)]) -> [UInt8] {
            ChunkManifest(
                size: good.count, sha256: SHA256Hex.of(good), digest: header.digest, commit: BundleForgery.commit.id,
                chunks: chunks.map { ChunkReference(sha256: $0.sha, size: $0.size) }
            ).encode()
        }
        let twoChunks = manifest([(SHA256Hex.of(chunk), chunk.count), (SHA256Hex.of(rest), rest.count)])
        return [
            Case(input: "empty value", value: [], expected: ["value is 0 bytes"]),
            Case(input: "plain text", value: Array("port=8080\n".utf8), expected: ["marker G2KB"]),
            Case(input: "unknown format version", value: try BundleForgery.frame(header: header, contents: contents, version: 2), expected: ["version 2"]),
            Case(input: "unknown compression", value: try BundleForgery.frame(header: header, contents: contents, compression: 7), expected: ["compression"]),
            Case(input: "truncated value", value: Array(good.dropLast(9)), expected: ["ends before its checksum"]),
            Case(input: "bytes after the stream", value: good + Array("extra".utf8), expected: ["5 bytes follow the compressed payload"]),
            Case(input: "corrupted compressed byte", value: flipped, expected: ["values/web"]),
            Case(input: "content that does not match its checksum",
                 value: try BundleForgery.frame(header: header, contents: [Array("{\"port\": 6666}\n".utf8)]), expected: ["file settings.json does not match its checksum"]),
            Case(input: "digest that does not match the files", value: try BundleForgery.frame(header: lyingDigest, contents: contents), expected: ["digest"]),
            Case(input: "header that is not JSON", value: try BundleForgery.frame(headerBytes: Array("{not json".utf8), contents: []), expected: ["header"]),
            Case(input: "path escaping with ..", value: try BundleForgery.frame(header: escaping, contents: contents), expected: ["../../etc/cron.d/evil"]),
            Case(input: "decompression bomb (80 MiB of zeros)", value: bomb, expected: ["more than 67108864 bytes"]),
            Case(input: "chunk manifest whose chunk is missing", value: twoChunks, expected: ["chunk 2 of 2", "missing"], chunks: [SHA256Hex.of(chunk): chunk]),
            Case(input: "chunk manifest whose chunk was altered", value: twoChunks, expected: ["chunk 1 of 2", "checksum"],
                 chunks: [SHA256Hex.of(chunk): chunk.reversed(), SHA256Hex.of(rest): rest]),
            Case(input: "chunk manifest that is not JSON", value: Array("G2KM".utf8) + [1] + Array("{\"chunks\": [".utf8), expected: ["manifest"]),
        ]
    }

    func run() async throws -> [CorpusOutcome] {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let (server, port) = try Git2KVBinary.startKVServer()
        defer { server.kill() }
        let kv = ConsulClient(.init(address: "http://127.0.0.1:\(port)"))
        let destination = root + "/settings.json"
        let config = root + "/render.yaml"
        try """
            kv: { address: "http://127.0.0.1:\(port)" }
            state_dir: \(root)/render-state
            outputs:
              - { bundle: values/web, file: settings.json, destination: \(destination) }

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let good = try BundleEncoder.encode(ConfigBundle(source: BundleForgery.source, commit: BundleForgery.commit, files: Self.goodFiles))
        _ = try await kv.put("values/web", value: good)
        let first = try Git2KVBinary.run(["render", "--once", "--config", config])
        guard first.status == 0, fileBytes(destination) == Self.goodFiles[0].content else {
            throw ReliabilityFailure("the KV value corpus's first render failed: \(first.output)\(first.errors)")
        }

        var outcomes: [CorpusOutcome] = []
        for item in try cases() {
            _ = try await kv.deleteTree(prefix: "values/.git2kv/")
            for (sha, chunk) in item.chunks { _ = try await kv.put("values/" + ChunkManifest.chunkKey(sha), value: chunk) }
            _ = try await kv.put("values/web", value: item.value)
            var problem = expectFailure(try Git2KVBinary.run(["render", "--once", "--config", config]), naming: ["values/web"] + item.expected)
            if problem == nil, fileBytes(destination) != Self.goodFiles[0].content { problem = "the delivered file was lost" }
            if problem == nil, item.chunks.isEmpty, !item.value.starts(with: Array("G2KM".utf8)) {
                let inspect = try Git2KVBinary.run(["inspect", "-"], input: item.value)
                if inspect.status == 0 { problem = "inspect accepted it" }
            }
            outcomes.append(CorpusOutcome(category: "KV values", input: item.input, problem: problem))
        }
        _ = try await kv.put("values/web", value: good)
        outcomes += try await canaryCases(kv, kvPort: port, destination: destination)
        outcomes += try templateCases(kvPort: port)
        return outcomes
    }

    /// The same values at the bundle's canary key, read by a canary renderer: each fails naming
    /// the canary key, and the file stays as the live value made it.
    private func canaryCases(_ kv: ConsulClient, kvPort: Int, destination: String) async throws -> [CorpusOutcome] {
        let config = root + "/render-canary.yaml"
        try """
            kv: { address: "http://127.0.0.1:\(kvPort)" }
            state_dir: \(root)/render-state
            canary: true
            report: { node: canary-corpus }
            outputs:
              - { bundle: values/web, file: settings.json, destination: \(destination) }

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let canaryKey = CanaryPlacement.canaryKey(ofBundleKey: "values/web")
        var outcomes: [CorpusOutcome] = []
        for item in try cases() {
            _ = try await kv.deleteTree(prefix: "values/.git2kv/")
            for (sha, chunk) in item.chunks { _ = try await kv.put(ChunkManifest.chunkKey(sha, besideBundleKey: canaryKey), value: chunk) }
            _ = try await kv.put(canaryKey, value: item.value)
            var problem = expectFailure(try Git2KVBinary.run(["render", "--once", "--config", config]), naming: [canaryKey] + item.expected.map { $0 == "values/web" ? canaryKey : $0 })
            if problem == nil, fileBytes(destination) != Self.goodFiles[0].content { problem = "the delivered file was lost" }
            outcomes.append(CorpusOutcome(category: "canary values", input: item.input, problem: problem))
        }
        _ = try await kv.deleteTree(prefix: "values/.git2kv/")
        return outcomes
    }

    /// Templates on the node that are missing or do not parse fail their own output only.
    private func templateCases(kvPort: Int) throws -> [CorpusOutcome] {
        let broken = root + "/broken.mustache"
        try "port={{files.settings_json.data.port}}\n{{#files}}\nunclosed section\n".write(toFile: broken, atomically: true, encoding: .utf8)
        let cases = [("template file that does not exist", root + "/missing.mustache", ["missing.mustache"]), ("template that does not parse", broken, ["broken.mustache:"])]
        var outcomes: [CorpusOutcome] = []
        for (number, (input, template, expected)) in cases.enumerated() {
            let delivered = root + "/template-case-\(number).json"
            let config = root + "/render-template-\(number).yaml"
            try """
                kv: { address: "http://127.0.0.1:\(kvPort)" }
                state_dir: \(root)/render-state-\(number)
                outputs:
                  - { bundle: values/web, template: \(template), destination: \(root)/templated-\(number).conf }
                  - { bundle: values/web, file: settings.json, destination: \(delivered) }

                """.write(toFile: config, atomically: true, encoding: .utf8)
            var problem = expectFailure(try Git2KVBinary.run(["render", "--once", "--config", config]), naming: expected)
            if problem == nil, fileBytes(delivered) != Self.goodFiles[0].content { problem = "the other output of the bundle was not delivered" }
            outcomes.append(CorpusOutcome(category: "templates", input: input, problem: problem))
        }
        return outcomes
    }
}
