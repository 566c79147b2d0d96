import Foundation
import KV
import KVServer
import Testing
import TestFixtures

/// A data directory on a small tmpfs (mounting needs root, as the CI machines have).
@Suite("A full disk", .serialized, .enabled(if: SmallDisk.canMount, "mounting a tmpfs needs root"))
struct DiskFullTests {
    @Test("writes are refused with 500 and nothing acknowledged, reads go on, writes resume when space returns, and a restart keeps exactly what was acknowledged")
    func refusesWritesKeepsReads() async throws {
        let disk = try SmallDisk(megabytes: 2)
        defer { disk.remove() }
        var limits = KVServerLimits()
        limits.logPreallocationBytes = 64 * 1024
        let value = [UInt8](repeating: 0x61, count: 100 * 1024)
        var acknowledged: [String] = []
        var refusal: KVError?
        try await withServer(disk.path, limits: limits) { (client: ConsulClient) async throws in
            try disk.fill(leavingBytes: 300 * 1024)
            for number in 0..<40 {
                do {
                    guard try await client.put("big/\(number)", value: value) else { break }
                    acknowledged.append("big/\(number)")
                } catch {
                    refusal = error as? KVError
                    break
                }
            }
            #expect(refusal?.description.contains("No space left on device") == true, "\(String(describing: refusal))")
            #expect(!acknowledged.isEmpty && acknowledged.count < 40)
            // The refused write is nowhere: not in a read, not in a listing.
            let refusedKey = "big/\(acknowledged.count)"
            #expect(try await client.get(refusedKey).value == nil)
            #expect(try await client.list(prefix: "big/").value.map(\.key).sorted() == acknowledged.sorted())
            #expect(try await client.get(acknowledged[0]).value?.value == value, "reads go on")
            // A small transaction and a session are refused the same way, and leave nothing behind.
            await #expect(throws: KVError.self) { try await client.put("more", value: value) }
            disk.freeFiller()
            #expect(try await client.put("after", value: Array("space is back".utf8)))
            acknowledged.append("after")
        }
        try await withServer(disk.path, limits: limits) { (client: ConsulClient) async throws in
            let keys = try await client.list(prefix: "").value.map(\.key).sorted()
            #expect(keys == acknowledged.sorted())
        }
    }

    @Test("a server starts on a full disk (no free-space reserve), serves reads and refuses writes")
    func startsOnAFullDisk() async throws {
        let disk = try SmallDisk(megabytes: 1)
        defer { disk.remove() }
        var limits = KVServerLimits()
        limits.logPreallocationBytes = 64 * 1024
        try await withServer(disk.path, limits: limits) { (client: ConsulClient) async throws in
            #expect(try await client.put("kept", value: Array("before".utf8)))
        }
        try disk.fill(leavingBytes: 0)
        try await withServer(disk.path, limits: limits) { (client: ConsulClient) async throws in
            #expect(try await client.get("kept").value.map { String(decoding: $0.value, as: UTF8.self) } == "before")
            let bigValue = [UInt8](repeating: 1, count: 200 * 1024)
            await #expect(throws: KVError.self) { try await client.put("refused", value: bigValue) }
            #expect(try await client.get("refused").value == nil)
        }
    }

    private func withServer(_ directory: String, limits: KVServerLimits, _ body: (ConsulClient) async throws -> Void) async throws {
        let server = try await RunningKVServer.start(KVServer(port: 0, dataDirectory: directory, limits: limits, logLevel: .critical))
        do {
            try await body(ConsulClient(.init(address: server.address, requestTimeout: .seconds(20))))
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}

/// A tmpfs of a few megabytes, and a filler file to take its space.
struct SmallDisk {
    let mountPoint: TemporaryDirectory
    var path: String { mountPoint.appending("data") }
    private var fillerPath: String { mountPoint.appending("filler") }

    static let canMount: Bool = {
        guard getuid() == 0, let probe = try? TemporaryDirectory() else { return false }
        defer { probe.remove() }
        guard (try? ProcessRunner.run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe.path])) != nil else { return false }
        _ = try? ProcessRunner.run("/bin/umount", [probe.path])
        return true
    }()

    init(megabytes: Int) throws {
        mountPoint = try TemporaryDirectory()
        _ = try ProcessRunner.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", mountPoint.path])
    }

    /// Writes the filler until only `leavingBytes` (rounded to pages) stay free.
    func fill(leavingBytes: Int) throws {
        var stats = statvfs()
        guard statvfs(mountPoint.path, &stats) == 0 else { throw CocoaError(.fileWriteUnknown) }
        let free = Int(stats.f_bavail) * Int(stats.f_frsize)
        if !FileManager.default.fileExists(atPath: fillerPath) {
            guard FileManager.default.createFile(atPath: fillerPath, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
        }
        guard let handle = FileHandle(forWritingAtPath: fillerPath) else { throw CocoaError(.fileWriteUnknown) }
        defer { try? handle.close() }
        try handle.seekToEnd()
        var remaining = max(0, free - leavingBytes)
        let chunk = Data(count: 64 * 1024)
        while remaining > 0 {
            let piece = chunk.prefix(min(remaining, chunk.count))
            do { try handle.write(contentsOf: piece) } catch { return }
            remaining -= piece.count
        }
    }

    func freeFiller() {
        try? FileManager.default.removeItem(atPath: fillerPath)
    }

    func remove() {
        _ = try? ProcessRunner.run("/bin/umount", [mountPoint.path])
        mountPoint.remove()
    }
}
