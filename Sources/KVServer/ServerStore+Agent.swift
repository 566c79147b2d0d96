import KV

/// The server's own node, as a Consul agent has one: in the catalog with a `consul` service and
/// a passing `serfHealth` check, and the node the agent endpoints register services and TTL
/// checks on.
extension ServerStore {
    static let selfNodeName = "git2kv-kv-server"

    var selfNode: CatalogNode? { state.catalog[Self.selfNodeName] }

    /// Puts the server's node in the catalog (once: a restarted store already has it) and starts
    /// the clocks of its TTL checks.
    func registerSelf(address: String) async {
        let reachable = ["0.0.0.0", "::", ""].contains(address) ? "127.0.0.1" : address
        if let node = selfNode, node.services["consul"] != nil, node.checks["serfHealth"] != nil, node.address == reachable {
            startCheckClocks()
            return
        }
        let registration = CatalogRegistration(
            node: Self.selfNodeName, id: nil, address: reachable, taggedAddresses: ["lan": reachable, "wan": reachable], meta: [:],
            service: .init(id: "consul", name: "consul", tags: [], address: "", port: 8300, meta: [:]),
            checks: [.init(checkID: "serfHealth", name: "Serf Health Status", status: "passing", notes: "", output: "Agent alive and reachable", serviceID: "")])
        do {
            try await register(registration, datacenter: CatalogEndpoint.datacenter)
        } catch {
            Self.say("could not put this server's node in the catalog: \(error.message)")
        }
        startCheckClocks()
    }

    func agentRegister(service: CatalogRegistration.Service?, checks: [CatalogRegistration.Check]) async throws(StorageError) {
        let address = selfNode?.address ?? "127.0.0.1"
        try await register(
            CatalogRegistration(node: Self.selfNodeName, id: nil, address: address, taggedAddresses: [:], meta: [:], service: service, checks: checks),
            datacenter: CatalogEndpoint.datacenter)
        for check in checks where check.ttl != nil { scheduleCheckExpiry(check.checkID) }
    }

    func agentDeregister(serviceID: String) async throws(StorageError) {
        let checks = selfNode?.checks.values.filter { $0.serviceID == serviceID }.map(\.checkID) ?? []
        try await deregister(node: Self.selfNodeName, serviceID: serviceID, checkID: nil)
        for id in checks { checkTimers.removeValue(forKey: id)?.cancel() }
    }

    func agentDeregister(checkID: String) async throws(StorageError) {
        try await deregister(node: Self.selfNodeName, serviceID: nil, checkID: checkID)
        checkTimers.removeValue(forKey: checkID)?.cancel()
    }

    /// Sets a check's status (pass/warn/fail/update); a TTL check's clock starts again, unless
    /// this is its expiry. False when this node has no such check.
    func agentUpdate(checkID: String, status: String, output: String, restartingClock: Bool = true) async throws(StorageError) -> Bool {
        guard var node = selfNode, var check = node.checks[checkID] else { return false }
        let index = state.index + 1
        check.status = status
        check.output = output
        check.modifyIndex = index
        node.checks[checkID] = check
        node.modifyIndex = index
        try await commit([.node(node.name, node)])
        if restartingClock, check.ttl != nil { scheduleCheckExpiry(checkID) }
        return true
    }

    private func startCheckClocks() {
        for check in selfNode.map({ Array($0.checks.values) }) ?? [] where check.ttl != nil { scheduleCheckExpiry(check.checkID) }
    }

    private func scheduleCheckExpiry(_ checkID: String) {
        checkTimers.removeValue(forKey: checkID)?.cancel()
        guard let text = selfNode?.checks[checkID]?.ttl, let ttl = ConsulWire.parseDuration(Substring(text)), ttl > .zero else { return }
        let clock = clock
        let deadline = clock.now + ttl
        checkTimers[checkID] = Task { [weak self] in
            do {
                try await clock.sleep(until: deadline)
            } catch {
                return
            }
            await self?.expireCheck(checkID, ttl: text)
        }
    }

    private func expireCheck(_ checkID: String, ttl: String) async {
        checkTimers[checkID] = nil
        // Refused by a full disk: the check keeps its status until its next update or expiry.
        _ = try? await agentUpdate(checkID: checkID, status: "critical", output: "TTL expired (no update within \(ttl))", restartingClock: false)
    }
}
