import BundleFormat
import Foundation

/// A bundle built from the snapshot, and encoded when it is to be written.
struct PreparedBundle: Sendable {
    let name: String
    let outcome: BuildOutcome
    let encoded: Result<StoredBundle, SyncError>?
}

extension SyncPlanner {
    /// How many bundles are built and encoded at once: validation, header encoding and
    /// compression are most of an initial sync, and independent per bundle.
    static var preparationWidth: Int { max(1, min(ProcessInfo.processInfo.activeProcessorCount, 4)) }

    /// Builds (and, where `needsWrite` says so, encodes) the bundles of `names` several at a
    /// time; the results come back in `names`' order.
    func prepare(
        _ names: ArraySlice<String>, from snapshot: SourceSnapshot, needsWrite: @escaping @Sendable (String, ConfigBundle) -> Bool
    ) async throws(SyncError) -> [PreparedBundle] {
        let width = Self.preparationWidth
        let results = await withTaskGroup(of: (Int, Result<PreparedBundle, SyncError>).self) { group in
            var results = [Result<PreparedBundle, SyncError>?](repeating: nil, count: names.count)
            var next = 0
            func add(_ offset: Int) {
                let name = names[names.startIndex + offset]
                group.addTask {
                    do throws(SyncError) {
                        let outcome = try await build(name, snapshot)
                        var encoded: Result<StoredBundle, SyncError>?
                        if case .built(let bundle) = outcome, needsWrite(name, bundle) { encoded = encode(bundle, name: name) }
                        return (offset, .success(PreparedBundle(name: name, outcome: outcome, encoded: encoded)))
                    } catch {
                        return (offset, .failure(error))
                    }
                }
            }
            while next < min(width, names.count) {
                add(next)
                next += 1
            }
            while let (offset, result) = await group.next() {
                results[offset] = result
                if next < names.count {
                    add(next)
                    next += 1
                }
            }
            return results
        }
        var prepared: [PreparedBundle] = []
        prepared.reserveCapacity(results.count)
        for result in results {
            guard let result else { continue }
            prepared.append(try result.get())
        }
        return prepared
    }
}
