/// Catalog and health JSON in Consul's shapes.
enum CatalogJSON {
    struct Node: Encodable {
        let node: CatalogNode

        private enum CodingKeys: String, CodingKey {
            case id = "ID", node = "Node", address = "Address", datacenter = "Datacenter"
            case taggedAddresses = "TaggedAddresses", meta = "Meta", createIndex = "CreateIndex", modifyIndex = "ModifyIndex"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(node.id, forKey: .id)
            try container.encode(node.name, forKey: .node)
            try container.encode(node.address, forKey: .address)
            try container.encode(node.datacenter, forKey: .datacenter)
            try container.encode(node.taggedAddresses, forKey: .taggedAddresses)
            try container.encode(node.meta, forKey: .meta)
            try container.encode(node.createIndex, forKey: .createIndex)
            try container.encode(node.modifyIndex, forKey: .modifyIndex)
        }
    }

    struct Service: Encodable {
        let service: CatalogService

        private enum CodingKeys: String, CodingKey {
            case id = "ID", service = "Service", tags = "Tags", address = "Address", port = "Port", meta = "Meta"
            case createIndex = "CreateIndex", modifyIndex = "ModifyIndex"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(service.id, forKey: .id)
            try container.encode(service.name, forKey: .service)
            try container.encode(service.tags, forKey: .tags)
            try container.encode(service.address, forKey: .address)
            try container.encode(service.port, forKey: .port)
            try container.encode(service.meta, forKey: .meta)
            try container.encode(service.createIndex, forKey: .createIndex)
            try container.encode(service.modifyIndex, forKey: .modifyIndex)
        }
    }

    /// An element of `/v1/catalog/service/<name>`: node and service fields side by side.
    struct ServiceInstance: Encodable {
        let node: CatalogNode
        let service: CatalogService

        private enum CodingKeys: String, CodingKey {
            case id = "ID", node = "Node", address = "Address", datacenter = "Datacenter", taggedAddresses = "TaggedAddresses"
            case nodeMeta = "NodeMeta", serviceID = "ServiceID", serviceName = "ServiceName", serviceTags = "ServiceTags"
            case serviceAddress = "ServiceAddress", servicePort = "ServicePort", serviceMeta = "ServiceMeta"
            case createIndex = "CreateIndex", modifyIndex = "ModifyIndex"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(node.id, forKey: .id)
            try container.encode(node.name, forKey: .node)
            try container.encode(node.address, forKey: .address)
            try container.encode(node.datacenter, forKey: .datacenter)
            try container.encode(node.taggedAddresses, forKey: .taggedAddresses)
            try container.encode(node.meta, forKey: .nodeMeta)
            try container.encode(service.id, forKey: .serviceID)
            try container.encode(service.name, forKey: .serviceName)
            try container.encode(service.tags, forKey: .serviceTags)
            try container.encode(service.address, forKey: .serviceAddress)
            try container.encode(service.port, forKey: .servicePort)
            try container.encode(service.meta, forKey: .serviceMeta)
            try container.encode(service.createIndex, forKey: .createIndex)
            try container.encode(service.modifyIndex, forKey: .modifyIndex)
        }
    }

    struct Check: Encodable {
        let node: String
        let check: HealthCheck

        private enum CodingKeys: String, CodingKey {
            case node = "Node", checkID = "CheckID", name = "Name", status = "Status", notes = "Notes", output = "Output"
            case serviceID = "ServiceID", serviceName = "ServiceName", createIndex = "CreateIndex", modifyIndex = "ModifyIndex"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(node, forKey: .node)
            try container.encode(check.checkID, forKey: .checkID)
            try container.encode(check.name, forKey: .name)
            try container.encode(check.status, forKey: .status)
            try container.encode(check.notes, forKey: .notes)
            try container.encode(check.output, forKey: .output)
            try container.encode(check.serviceID, forKey: .serviceID)
            try container.encode(check.serviceName, forKey: .serviceName)
            try container.encode(check.createIndex, forKey: .createIndex)
            try container.encode(check.modifyIndex, forKey: .modifyIndex)
        }
    }

    /// An element of `/v1/health/service/<name>`.
    struct HealthEntry: Encodable {
        let node: CatalogNode
        let service: CatalogService

        private enum CodingKeys: String, CodingKey { case node = "Node", service = "Service", checks = "Checks" }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(Node(node: node), forKey: .node)
            try container.encode(Service(service: service), forKey: .service)
            try container.encode(node.checks(of: service.id).map { Check(node: node.name, check: $0) }, forKey: .checks)
        }
    }

    /// `/v1/catalog/node/<name>`.
    struct NodeServices: Encodable {
        let node: CatalogNode

        private enum CodingKeys: String, CodingKey { case node = "Node", services = "Services" }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(Node(node: node), forKey: .node)
            try container.encode(node.services.mapValues(Service.init), forKey: .services)
        }
    }
}
