import Crypto
import Foundation

/// What this machine last wrote under a prefix: the state key's modify index and the highest
/// index of its own writes. When the prefix's index moves past it, somebody else wrote there
/// and the next sync compares the whole tree (drift check); otherwise one key listing suffices.
public struct SyncRecord: Codable, Sendable, Equatable {
    public var stateIndex: UInt64
    public var lastWriteIndex: UInt64

    public init(stateIndex: UInt64, lastWriteIndex: UInt64) {
        self.stateIndex = stateIndex
        self.lastWriteIndex = lastWriteIndex
    }
}

/// Keeps `SyncRecord`s as small files under the state directory, one per prefix and address.
public struct SyncRecordStore: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    private func path(for target: MappingTarget, address: String) -> String {
        let name = SHA256.hash(data: Data("\(address)\n\(target.prefix)".utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
        return "\(directory)/\(name).json"
    }

    public func load(_ target: MappingTarget, address: String) -> SyncRecord? {
        guard let data = FileManager.default.contents(atPath: path(for: target, address: address)) else { return nil }
        return try? JSONDecoder().decode(SyncRecord.self, from: data)
    }

    /// Best effort: a record that cannot be saved only costs a full compare next time.
    public func save(_ record: SyncRecord, for target: MappingTarget, address: String) {
        guard let data = try? JSONEncoder().encode(record) else { return }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let destination = path(for: target, address: address)
        let temporary = destination + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else { return }
        _ = rename(temporary, destination)
    }
}
