extension ConsulClient {
    /// Lists the keys of `P` (the prefix without its `/`) cut at the first `/`: every key under
    /// `P/` collapses into the one name `P/`, yet Consul's index still counts each of them and
    /// the tombstones of deleted ones. A few bytes answer "did anything under P/ change?".
    ///
    /// The index covers every key whose name starts with `P`, so a sibling such as `P2/x` would
    /// move it too; such a sibling shows up as another name, or as results hidden by the token's
    /// ACL, and then there is no cheap answer (nil) and the caller lists `P/` itself. A 403
    /// (Consul's `acl.enable_key_list_policy`) gives nil the same way.
    public func changeIndex(under prefix: String) async throws(KVError) -> UInt64? {
        guard prefix.hasSuffix("/"), prefix.count > 1 else { return nil }
        let parent = String(prefix.dropLast())
        let operation = "read the index of \(prefix)"
        let reply = try await send(
            .GET, path: "/v1/kv/" + Self.keyPath(parent), query: [("keys", nil), ("separator", "/")] + readQuery(.default),
            timeout: readTimeout(.default), operation: operation)
        switch reply.status {
        case 200: break
        case 404: return reply.index
        case 403: return nil
        default: throw failure(reply, operation: operation)
        }
        if reply.headers.first(name: "X-Consul-Results-Filtered-By-ACLs") == "true" { return nil }
        let names = try decode([String].self, reply, operation: operation)
        return names.allSatisfy({ $0 == prefix }) ? reply.index : nil
    }
}
