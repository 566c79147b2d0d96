import BundleFormat
import Foundation
import KV

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
        let results = await concurrentMap(Array(names), width: Self.preparationWidth) { name -> Result<PreparedBundle, SyncError> in
            do throws(SyncError) {
                let outcome = try await build(name, snapshot)
                var encoded: Result<StoredBundle, SyncError>?
                if case .built(let bundle) = outcome, needsWrite(name, bundle) { encoded = encode(bundle, name: name) }
                return .success(PreparedBundle(name: name, outcome: outcome, encoded: encoded))
            } catch {
                return .failure(error)
            }
        }
        var prepared: [PreparedBundle] = []
        prepared.reserveCapacity(results.count)
        for result in results { prepared.append(try result.get()) }
        return prepared
    }
}
