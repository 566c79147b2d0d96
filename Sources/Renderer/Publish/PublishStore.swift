import Foundation
import KV

/// The store calls `publish` and `hosts` make, with errors that say what was being read or
/// written, and the kill switch both honour.
extension KVStore {
    func publishRead(_ key: String, what: String) async throws(RenderError) -> KVEntry? {
        do {
            return try await get(key).value
        } catch {
            throw RenderError(.kv, "cannot read \(what) \(key): \(error)")
        }
    }

    func publishWrite(_ operations: [KVOperation], what: String) async throws(RenderError) {
        do {
            _ = try await transaction(operations)
        } catch {
            throw RenderError(.kv, "cannot write \(what): \(error)")
        }
    }

    /// Why nothing may be published: the stop key exists (its value, trimmed, is the reason).
    func stopReason(_ stopKey: String?) async throws(RenderError) -> String? {
        guard let stopKey, let stop = try await publishRead(stopKey, what: "stop key") else { return nil }
        let reason = String(decoding: stop.value, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return "stop key \(stopKey) is set\(reason.isEmpty ? "" : ": \(reason)")"
    }
}

extension MinLinesRule {
    /// Refuses `content` for `file` when it has fewer lines than its minimum; `key` keeps its value.
    func check(_ content: [UInt8], file: String, key: String) throws(RenderError) {
        let lines = OutputContent.lineCount(content)
        let minimum = minimum(for: file)
        guard lines >= minimum else {
            throw RenderError(.guardFailed, "\(file) has \(lines) lines, fewer than min_lines \(minimum); \(key) keeps its value")
        }
    }
}
