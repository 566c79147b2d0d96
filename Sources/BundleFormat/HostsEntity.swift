/// What a hosts file says about one service or one node: its DNS label and the addresses
/// that answer for it (with the tags each address carries, for `tag.service` names).
public struct HostsEntity: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable {
        case service
        case node
    }

    public var kind: Kind
    /// A lower-case DNS label.
    public var name: String
    /// Sorted by address, one entry per address.
    public var addresses: [HostsAddress]

    public init(kind: Kind, name: String, addresses: [HostsAddress]) {
        self.kind = kind
        self.name = name
        self.addresses = addresses
    }

    /// The (name, address) pairs this entity contributes to the hosts file.
    public func names(domain: String) -> [(name: String, address: String)] {
        var pairs: [(name: String, address: String)] = []
        for entry in addresses {
            switch kind {
            case .node:
                pairs.append(("\(name).node.\(domain)", entry.address))
            case .service:
                pairs.append(("\(name).service.\(domain)", entry.address))
                for tag in entry.tags { pairs.append(("\(tag).\(name).service.\(domain)", entry.address)) }
            }
        }
        return pairs
    }

    /// Which of `count` shards holds this entity: FNV-1a (64-bit) of `kind/name`, modulo
    /// `count`. Fixed by the format: writers and readers must agree on it.
    public static func shard(kind: Kind, name: String, count: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in kind.rawValue.utf8 + [UInt8(ascii: "/")] + name.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return Int(hash % UInt64(max(1, count)))
    }
}

/// One address of a service or node, and (for a service) the tags of its instances there.
public struct HostsAddress: Codable, Hashable, Sendable, Comparable {
    public var address: String
    /// Sorted, unique DNS labels.
    public var tags: [String]

    public init(address: String, tags: [String] = []) {
        self.address = address
        self.tags = tags
    }

    public static func < (lhs: HostsAddress, rhs: HostsAddress) -> Bool { lhs.address < rhs.address }
}

/// The hosts file's text: `ADDRESS NAME` lines sorted by name then address, each once, so
/// the same entities always give the same bytes.
public enum HostsText {
    public static func render(_ entities: some Sequence<HostsEntity>, domain: String) -> String {
        var pairs: [(name: String, address: String)] = []
        for entity in entities { pairs += entity.names(domain: domain) }
        pairs.sort { ($0.name, $0.address) < ($1.name, $1.address) }
        var text = ""
        var previous: (name: String, address: String)?
        for pair in pairs {
            if let previous, previous == pair { continue }
            text += "\(pair.address) \(pair.name)\n"
            previous = pair
        }
        return text
    }

    /// A DNS label (1–63 of a–z, 0–9, `-`, not at either end), or nil.
    public static func label(_ name: String) -> String? {
        let lowered = name.lowercased()
        guard (1...63).contains(lowered.utf8.count), !lowered.hasPrefix("-"), !lowered.hasSuffix("-"),
            lowered.utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D })
        else { return nil }
        return lowered
    }

    /// An address that can stand in a hosts line: 1–255 printable bytes, no blank.
    public static func isAddress(_ address: String) -> Bool {
        (1...255).contains(address.utf8.count) && address.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
