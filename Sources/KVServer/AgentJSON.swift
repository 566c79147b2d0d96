/// The agent endpoints' JSON in Consul's shapes, for the server's own node.
enum AgentJSON {
    /// The version Consul clients see; kv-server speaks that API version.
    static let consulVersion = "1.15.0"

    struct Member: Encodable {
        let node: CatalogNode?

        private enum CodingKeys: String, CodingKey {
            case name = "Name", addr = "Addr", port = "Port", tags = "Tags", status = "Status"
            case protocolMin = "ProtocolMin", protocolMax = "ProtocolMax", protocolCur = "ProtocolCur"
            case delegateMin = "DelegateMin", delegateMax = "DelegateMax", delegateCur = "DelegateCur"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(ServerStore.selfNodeName, forKey: .name)
            try container.encode(node?.address ?? "127.0.0.1", forKey: .addr)
            try container.encode(8301, forKey: .port)
            let tags = [
                "role": "consul", "dc": CatalogEndpoint.datacenter, "port": "8300", "build": "\(consulVersion):git2kv", "vsn": "2",
                "vsn_min": "2", "vsn_max": "3", "bootstrap": "1", "id": node?.id ?? "",
            ]
            try container.encode(tags, forKey: .tags)
            try container.encode(1, forKey: .status)  // alive
            try container.encode(1, forKey: .protocolMin)
            try container.encode(5, forKey: .protocolMax)
            try container.encode(2, forKey: .protocolCur)
            try container.encode(2, forKey: .delegateMin)
            try container.encode(5, forKey: .delegateMax)
            try container.encode(4, forKey: .delegateCur)
        }
    }

    struct SelfInfo: Encodable {
        let node: CatalogNode?

        private enum CodingKeys: String, CodingKey { case config = "Config", member = "Member", meta = "Meta", stats = "Stats" }

        private struct Config: Encodable {
            let node: CatalogNode?

            private enum CodingKeys: String, CodingKey {
                case datacenter = "Datacenter", primaryDatacenter = "PrimaryDatacenter", nodeName = "NodeName", nodeID = "NodeID"
                case server = "Server", revision = "Revision", version = "Version"
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(CatalogEndpoint.datacenter, forKey: .datacenter)
                try container.encode(CatalogEndpoint.datacenter, forKey: .primaryDatacenter)
                try container.encode(ServerStore.selfNodeName, forKey: .nodeName)
                try container.encode(node?.id ?? "", forKey: .nodeID)
                try container.encode(true, forKey: .server)
                try container.encode("git2kv", forKey: .revision)
                try container.encode(consulVersion, forKey: .version)
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(Config(node: node), forKey: .config)
            try container.encode(Member(node: node), forKey: .member)
            try container.encode(node?.meta ?? [:], forKey: .meta)
            try container.encode([String: [String: String]](), forKey: .stats)
        }
    }

    /// An element of `/v1/agent/services`.
    struct Service: Encodable {
        let service: CatalogService

        private enum CodingKeys: String, CodingKey {
            case id = "ID", service = "Service", tags = "Tags", address = "Address", port = "Port", meta = "Meta"
            case datacenter = "Datacenter", enableTagOverride = "EnableTagOverride", weights = "Weights"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(service.id, forKey: .id)
            try container.encode(service.name, forKey: .service)
            try container.encode(service.tags, forKey: .tags)
            try container.encode(service.address, forKey: .address)
            try container.encode(service.port, forKey: .port)
            try container.encode(service.meta, forKey: .meta)
            try container.encode(CatalogEndpoint.datacenter, forKey: .datacenter)
            try container.encode(false, forKey: .enableTagOverride)
            try container.encode(["Passing": 1, "Warning": 1], forKey: .weights)
        }
    }
}
