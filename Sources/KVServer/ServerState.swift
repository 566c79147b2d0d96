import Foundation
import KV

/// Everything the server stores. It changes only through `apply`, both when serving and when
/// replaying the write-ahead log, so a restart rebuilds exactly what was acknowledged.
struct ServerState: Decodable, Sendable {
    /// The index of the last change (Consul's raft index).
    var index: UInt64 = 1
    var kv = KVTable()
    var sessions: [String: SessionRecord] = [:]
    var catalog: [String: CatalogNode] = [:]
    /// Moves with every catalog change (what a single node's or service's reads report).
    var catalogIndex: UInt64 = 1
    /// Consul's per-table indexes: the nodes, services and checks tables move only when a
    /// node's own fields, a service instance or a check changed, so a watch of the service list
    /// sleeps through health flips. Not saved: after a restart they start at `catalogIndex`.
    var nodesChangeIndex: UInt64?
    var servicesChangeIndex: UInt64?
    var checksChangeIndex: UInt64?
    /// The index of the last session change (a create or a destroy): what session reads report.
    /// Optional only so that JSON snapshots of earlier versions, which lack it, still load.
    var sessionsChangeIndex: UInt64?
    var policies: [String: ACLPolicy] = [:]
    /// Tokens by secret ID.
    var tokens: [String: ACLToken] = [:]

    /// A store with no history starts its index at the wall clock in microseconds, not at 1: a
    /// client that watched an earlier store at this address (one that restarted empty) holds
    /// indexes the new store must not hand out again for other content, or that client's
    /// blocking query would wait for an index it has already seen. No store writes once per
    /// microsecond for its whole life, so a new one starts above every index an old one gave.
    static func fresh(now: Date = Date()) -> ServerState {
        var state = ServerState()
        state.index = UInt64(max(1, now.timeIntervalSince1970 * 1_000_000))
        state.catalogIndex = state.index
        state.sessionsChangeIndex = state.index
        return state
    }

    var nodesIndex: UInt64 { nodesChangeIndex ?? catalogIndex }
    var servicesIndex: UInt64 { servicesChangeIndex ?? catalogIndex }
    var checksIndex: UInt64 { checksChangeIndex ?? catalogIndex }

    /// What session reads report: the last session change (for a store from before it was kept, the newest session's).
    var sessionsIndex: UInt64 {
        sessionsChangeIndex ?? max(1, sessions.values.map(\.modifyIndex).max() ?? 1)
    }

    /// Applies `record` and returns how to take it back (for a write that could not be made durable).
    @discardableResult
    mutating func apply(_ record: ChangeRecord) -> StateUndo {
        var undo = StateUndo(
            index: index, catalogIndex: catalogIndex, sessionsIndex: sessionsChangeIndex,
            tableIndexes: [nodesChangeIndex, servicesChangeIndex, checksChangeIndex])
        for change in record.changes {
            switch change {
            case .key(let key, _): undo.restores.append(.key(kv.saved(key)))
            case .session(let id, _): undo.restores.append(.session(id, sessions[id]))
            case .node(let name, _): undo.restores.append(.node(name, catalog[name]))
            case .policy(let id, _): undo.restores.append(.policy(id, policies[id]))
            case .token(let secret, _): undo.restores.append(.token(secret, tokens[secret]))
            }
        }
        replay(record)
        return undo
    }

    /// Applies `record` without keeping what it replaced (replaying the log).
    mutating func replay(_ record: ChangeRecord) {
        index = max(index, record.index)
        for change in record.changes {
            switch change {
            case .key(let key, let entry): kv.set(key, to: entry, at: record.index)
            case .session(let id, let session):
                sessions[id] = session
                sessionsChangeIndex = record.index
            case .node(let name, let node):
                let old = catalog[name]
                catalog[name] = node
                catalogIndex = record.index
                if !CatalogNode.sameNodeFields(old, node) { nodesChangeIndex = record.index }
                if (old?.services ?? [:]) != (node?.services ?? [:]) { servicesChangeIndex = record.index }
                if (old?.checks ?? [:]) != (node?.checks ?? [:]) { checksChangeIndex = record.index }
            case .policy(let id, let policy): policies[id] = policy
            case .token(let secret, let token): tokens[secret] = token
            }
        }
    }
}

/// What a record replaced, in order: reverting puts every part back and the indexes with them.
struct StateUndo: Sendable {
    enum Restore: Sendable {
        case key(KVTable.SavedKey)
        case session(String, SessionRecord?)
        case node(String, CatalogNode?)
        case policy(String, ACLPolicy?)
        case token(String, ACLToken?)
    }

    let index: UInt64
    let catalogIndex: UInt64
    let sessionsIndex: UInt64?
    /// The nodes, services and checks table indexes.
    let tableIndexes: [UInt64?]
    var restores: [Restore] = []
}

extension ServerState {
    mutating func revert(_ undo: StateUndo) {
        for restore in undo.restores.reversed() { revertPart(restore) }
        index = undo.index
        catalogIndex = undo.catalogIndex
        sessionsChangeIndex = undo.sessionsIndex
        nodesChangeIndex = undo.tableIndexes[0]
        servicesChangeIndex = undo.tableIndexes[1]
        checksChangeIndex = undo.tableIndexes[2]
    }

    mutating func revertPart(_ restore: StateUndo.Restore) {
        switch restore {
        case .key(let saved): kv.restore(saved)
        case .session(let id, let session): sessions[id] = session
        case .node(let name, let node): catalog[name] = node
        case .policy(let id, let policy): policies[id] = policy
        case .token(let secret, let token): tokens[secret] = token
        }
    }
}

/// One committed change: every part gets the same index, and is all applied or not at all.
struct ChangeRecord: Codable, Sendable {
    var index: UInt64
    var changes: [StateChange]
}

/// A part of a change, written as the new value (nil: removed), so replaying it is idempotent.
enum StateChange: Codable, Sendable {
    case key(String, KVEntry?)
    case session(String, SessionRecord?)
    case node(String, CatalogNode?)
    case policy(String, ACLPolicy?)
    case token(String, ACLToken?)

    var changedKey: String? {
        if case .key(let key, _) = self { return key }
        return nil
    }
}
