/// The agent endpoints' JSON in Consul's shapes, for the server's own node.
enum AgentJSON {
    /// The version Consul clients see; kv-server speaks that API version.
    static let consulVersion = "1.15.0"

    struct Member: Encodable {
        let node: CatalogNode?
        /// The WAN pool names members `node.datacenter`.
        var wan = false

        private enum CodingKeys: String, CodingKey {
            case name = "Name", addr = "Addr", port = "Port", tags = "Tags", status = "Status"
            case protocolMin = "ProtocolMin", protocolMax = "ProtocolMax", protocolCur = "ProtocolCur"
            case delegateMin = "DelegateMin", delegateMax = "DelegateMax", delegateCur = "DelegateCur"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(ServerStore.selfNodeName + (wan ? "." + CatalogEndpoint.datacenter : ""), forKey: .name)
            try container.encode(node?.address ?? "127.0.0.1", forKey: .addr)
            try container.encode(wan ? 8302 : 8301, forKey: .port)
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

        private enum CodingKeys: String, CodingKey {
            case config = "Config", debugConfig = "DebugConfig", coord = "Coord", member = "Member", meta = "Meta", stats = "Stats", xds = "xDS"
        }

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
            try container.encode([String: String](), forKey: .debugConfig)
            try container.encodeNil(forKey: .coord)
            try container.encode(node?.meta ?? [:], forKey: .meta)
            let consul = ["server": "true", "leader": "true", "leader_addr": "127.0.0.1:8300", "bootstrap": "true", "known_datacenters": "1"]
            try container.encode(["consul": consul], forKey: .stats)
            try container.encodeNil(forKey: .xds)
        }
    }

    /// An element of `/v1/agent/services`.
    struct Service: Encodable {
        let service: CatalogService

        private enum CodingKeys: String, CodingKey {
            case id = "ID", service = "Service", tags = "Tags", address = "Address", port = "Port", meta = "Meta"
            case datacenter = "Datacenter", enableTagOverride = "EnableTagOverride", weights = "Weights", taggedAddresses = "TaggedAddresses"
        }

        private struct TaggedAddressJSON: Encodable {
            let address: CatalogService.TaggedAddress
            private enum CodingKeys: String, CodingKey { case address = "Address", port = "Port" }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(address.address, forKey: .address)
                try container.encode(address.port, forKey: .port)
            }
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
            try container.encode(service.enableTagOverride ?? false, forKey: .enableTagOverride)
            if let tagged = service.taggedAddresses, !tagged.isEmpty {
                try container.encode(tagged.mapValues(TaggedAddressJSON.init), forKey: .taggedAddresses)
            }
            try container.encode(["Passing": 1, "Warning": 1], forKey: .weights)
        }
    }
}
