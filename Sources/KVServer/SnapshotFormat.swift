import Crypto
import Foundation
import KV

/// `snapshot.bin`: the magic line, the index the snapshot starts from, the KV entries in key
/// order (binary: a million keys load in seconds, where JSON took minutes), the other tables as
/// one JSON record, an end mark and the SHA-256 of everything before it.
///
/// A snapshot is written in pieces while writes go on (see `SnapshotRun`), so an entry may show
/// a change made after its start index. That is safe because log records hold new values, not
/// differences: replaying every record after the start index over the pieces ends in exactly
/// the state the log describes.
enum SnapshotFormat {
    static let fileName = "snapshot.bin"
    static let magic = Array("git2kv kv-server snapshot 2\n".utf8)
    private static let entryTag: UInt8 = 1
    private static let tablesTag: UInt8 = 2
    private static let endTag: UInt8 = 0

    /// Everything but the KV entries, taken when the last piece is.
    struct Tables: Codable {
        var catalogIndex: UInt64
        var sessionsIndex: UInt64
        var sessions: [SessionRecord]
        var catalog: [CatalogNode]
        var policies: [ACLPolicy]
        var tokens: [ACLToken]
        var tombstones: [Tombstone]
        var reapedFloor: UInt64
    }

    struct Tombstone: Codable {
        var key: String
        var index: UInt64
    }

    static func header(startIndex: UInt64) -> [UInt8] {
        var bytes = magic
        bytes.appendInteger(startIndex)
        return bytes
    }

    static func entries(_ entries: [KVEntry]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.reduce(0) { $0 + $1.key.utf8.count + $1.value.count + 48 })
        for entry in entries {
            bytes.append(entryTag)
            bytes.appendBytes(Array(entry.key.utf8))
            bytes.appendBytes(entry.value)
            bytes.appendInteger(entry.flags)
            bytes.appendInteger(entry.createIndex)
            bytes.appendInteger(entry.modifyIndex)
            bytes.appendInteger(entry.lockIndex)
            bytes.appendBytes(Array((entry.session ?? "").utf8))
        }
        return bytes
    }

    static func tables(_ tables: Tables) throws -> [UInt8] {
        var bytes = [tablesTag]
        bytes.appendBytes(Array(try JSONEncoder().encode(tables)))
        bytes.append(endTag)
        return bytes
    }

    static func checksum(of bytes: some DataProtocol) -> [UInt8] { Array(SHA256.hash(data: bytes)) }

    /// Reads a whole snapshot; says what is wrong with a damaged one.
    static func decode(_ bytes: [UInt8], path: String) throws(StorageError) -> ServerState {
        func damaged(_ what: String) -> StorageError {
            StorageError("the snapshot \(path) is damaged (\(what)); move it away and restore the data directory from a backup")
        }
        guard bytes.count >= magic.count + 8 + 32, bytes.starts(with: magic) else { throw damaged("it does not start with a kv-server snapshot header") }
        let body = bytes[..<(bytes.count - 32)]
        guard checksum(of: body) == Array(bytes[(bytes.count - 32)...]) else { throw damaged("its checksum does not match") }
        var reader = ByteReader(bytes: body, position: magic.count)
        var state = ServerState()
        var entries: [KVEntry] = []
        do {
            state.index = try reader.integer()
            while true {
                let tag = try reader.byte()
                if tag == entryTag {
                    let key = String(decoding: try reader.lengthPrefixed(), as: UTF8.self)
                    let value = try reader.lengthPrefixed()
                    let flags = try reader.integer()
                    let createIndex = try reader.integer()
                    let modifyIndex = try reader.integer()
                    let lockIndex = try reader.integer()
                    let session = try reader.lengthPrefixed()
                    entries.append(
                        KVEntry(
                            key: key, value: Array(value), flags: flags, createIndex: createIndex, modifyIndex: modifyIndex, lockIndex: lockIndex,
                            session: session.isEmpty ? nil : String(decoding: session, as: UTF8.self)))
                } else if tag == tablesTag {
                    let tables = try JSONDecoder().decode(Tables.self, from: Data(try reader.lengthPrefixed()))
                    guard try reader.byte() == endTag, reader.atEnd else { throw damaged("bytes follow its end") }
                    state.catalogIndex = tables.catalogIndex
                    state.sessionsChangeIndex = tables.sessionsIndex
                    state.sessions = Dictionary(tables.sessions.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
                    state.catalog = Dictionary(tables.catalog.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
                    state.policies = Dictionary(tables.policies.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
                    state.tokens = Dictionary(tables.tokens.map { ($0.secretID, $0) }, uniquingKeysWith: { $1 })
                    state.kv = KVTable(orderedEntries: entries, tombstones: tables.tombstones.map { ($0.key, $0.index) }, reapedFloor: tables.reapedFloor)
                    return state
                } else {
                    throw damaged("unknown record type \(tag) at offset \(reader.position - 1)")
                }
            }
        } catch let error as StorageError {
            throw error
        } catch {
            throw damaged("\(error)")
        }
    }
}

/// Reads the snapshot's integers (little endian) and length-prefixed byte strings.
private struct ByteReader {
    let bytes: ArraySlice<UInt8>
    var position: Int

    struct Truncated: Error, CustomStringConvertible {
        let offset: Int
        var description: String { "it ends early, at offset \(offset)" }
    }

    var atEnd: Bool { position == bytes.endIndex }

    mutating func byte() throws(Truncated) -> UInt8 {
        guard position < bytes.endIndex else { throw Truncated(offset: position) }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func integer() throws(Truncated) -> UInt64 {
        guard position + 8 <= bytes.endIndex else { throw Truncated(offset: position) }
        var value: UInt64 = 0
        for shift in 0..<8 { value |= UInt64(bytes[position + shift]) << (8 * shift) }
        position += 8
        return value
    }

    mutating func lengthPrefixed() throws(Truncated) -> ArraySlice<UInt8> {
        guard position + 4 <= bytes.endIndex else { throw Truncated(offset: position) }
        var count = 0
        for shift in 0..<4 { count |= Int(bytes[position + shift]) << (8 * shift) }
        position += 4
        guard position + count <= bytes.endIndex else { throw Truncated(offset: position) }
        defer { position += count }
        return bytes[position..<(position + count)]
    }
}

extension [UInt8] {
    fileprivate mutating func appendInteger(_ value: UInt64) {
        for shift in 0..<8 { append(UInt8(truncatingIfNeeded: value >> (8 * shift))) }
    }

    fileprivate mutating func appendBytes(_ bytes: [UInt8]) {
        let count = UInt32(bytes.count)
        for shift in 0..<4 { append(UInt8(truncatingIfNeeded: count >> (8 * shift))) }
        append(contentsOf: bytes)
    }
}
