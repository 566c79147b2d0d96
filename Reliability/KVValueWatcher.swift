import BundleFormat
import Foundation
import KV
import Pipeline

/// Holds a blocking query on everything the daemon writes and checks every value it sees:
/// each bundle (chunked or not) must verify and hold exactly its commit's files, and the state
/// key must only move forward through the branch's history. It rides out kv-server restarts.
final class KVValueWatcher: @unchecked Sendable {
    private let kv: ConsulClient
    private let history: ConfigHistory
    private let findings: Findings
    private var checked: [String: UInt64] = [:]
    private var lastStatePosition: [String: Int] = [:]

    init(kv: ConsulClient, history: ConfigHistory, findings: Findings) {
        self.kv = kv
        self.history = history
        self.findings = findings
    }

    func run() async {
        var index: UInt64 = 0
        while !Task.isCancelled {
            do throws(KVError) {
                let read = try await kv.list(prefix: "config/", options: .init(waitIndex: index == 0 ? nil : index, waitTime: .seconds(5)))
                if read.index < index { findings.count("kv index went back") }
                index = read.index
                check(read.value)
            } catch {
                findings.count("watcher read errors")
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    private func check(_ entries: [KVEntry]) {
        findings.count("KV snapshots checked")
        let chunks = Dictionary(
            entries.filter { $0.key.hasPrefix("config/apps/.git2kv/chunks/") }.map { (String($0.key.split(separator: "/").last!), $0.value) },
            uniquingKeysWith: { first, _ in first })
        for entry in entries where checked[entry.key] != entry.modifyIndex {
            checked[entry.key] = entry.modifyIndex
            if entry.key.hasSuffix("/.git2kv/state") {
                checkState(entry)
            } else if entry.key.hasPrefix("config/apps/"), !entry.key.contains("/.git2kv/") {
                checkBundle(entry, chunks: chunks)
            }
        }
    }

    private func checkState(_ entry: KVEntry) {
        findings.count("state values checked")
        guard let state = try? SyncState.decode(entry.value) else {
            findings.violation("\(entry.key) (index \(entry.modifyIndex)) does not decode as a sync state")
            return
        }
        guard let position = history.position(of: state.commit.id) else {
            findings.violation("\(entry.key) names commit \(state.commit.id), which the run never made")
            return
        }
        if let last = lastStatePosition[entry.key], position < last {
            findings.violation("\(entry.key) went back from commit #\(last) to #\(position): an acknowledged write was lost")
        }
        lastStatePosition[entry.key] = max(position, lastStatePosition[entry.key] ?? 0)
    }

    private func checkBundle(_ entry: KVEntry, chunks: [String: [UInt8]]) {
        findings.count("bundle values checked")
        let directory = "apps/" + entry.key.dropFirst("config/apps/".count)
        do throws(BundleError) {
            var value = entry.value
            if value.starts(with: Array("G2KM".utf8)) {
                findings.count("chunked bundle values checked")
                value = try ChunkManifest.decode(value).assemble(chunks)
            }
            let bundle = try BundleDecoder.decode(value)
            guard let expected = history.files(under: directory, at: bundle.commit.id) else {
                findings.violation("\(entry.key) names commit \(bundle.commit.id), which the run never made")
                return
            }
            let actual = Dictionary(uniqueKeysWithValues: bundle.files.map { ($0.path, $0.content) })
            if actual != expected {
                findings.violation("\(entry.key) (index \(entry.modifyIndex)) does not hold \(directory) as of \(bundle.commit.id.prefix(12))")
            }
        } catch {
            findings.violation("\(entry.key) (index \(entry.modifyIndex)) is torn or unverifiable: \(error)")
        }
    }
}
