public import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Real etcd members (Debian's `etcd-server`) on free loopback ports, for tests and benchmarks:
/// one member, or a cluster whose leader can be killed.
public final class EtcdCluster: @unchecked Sendable {
    public struct Member: Sendable {
        public let name: String
        public let clientURL: String
        public let peerURL: String
    }

    public static let executable = "/usr/bin/etcd"

    public let members: [Member]
    private let directory: TemporaryDirectory
    private let lock = NSLock()
    private var processes: [String: Process] = [:]

    /// The client URLs of every member, as `kv.endpoints` lists them.
    public var endpoints: [String] { members.map(\.clientURL) }

    /// Starts `size` members forming one cluster; call `waitUntilReady()` before use. Their data
    /// goes under `dataParent`, or on tmpfs when nil.
    public init(size: Int = 1, dataParent: String? = nil, extraArguments: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw GitCLI.Failure(arguments: ["etcd"], status: -1, standardError: "\(Self.executable) is missing: install Debian's etcd-server (scripts/install-deps)")
        }
        // On tmpfs when there is one: etcd fsyncs every write, which on a shared disk stalls
        // every other test running at the same time.
        let memory = "/dev/shm"
        directory = try TemporaryDirectory(
            prefix: "git2kv-etcd", in: dataParent ?? (FileManager.default.isWritableFile(atPath: memory) ? memory : nil))
        let ports = ClosedPort.find(count: 2 * size)
        members = (0..<size).map { index in
            Member(name: "m\(index)", clientURL: "http://127.0.0.1:\(ports[2 * index])", peerURL: "http://127.0.0.1:\(ports[2 * index + 1])")
        }
        let initialCluster = members.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ",")
        let clusterToken = "git2kv-test-\(UUID().uuidString.prefix(8))"
        for member in members {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.executable)
            process.arguments = [
                "--name", member.name, "--data-dir", directory.appending(member.name),
                "--listen-client-urls", member.clientURL, "--advertise-client-urls", member.clientURL,
                "--listen-peer-urls", member.peerURL, "--initial-advertise-peer-urls", member.peerURL,
                "--initial-cluster", initialCluster, "--initial-cluster-state", "new",
                "--initial-cluster-token", clusterToken, "--log-level", "error",
            ] + extraArguments
            let log = directory.appending("\(member.name).log")
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle(forWritingAtPath: log)
            process.standardInput = FileHandle.nullDevice
            try process.run()
            processes[member.name] = process
        }
    }

    /// Waits until every running member reports the same leader.
    public func waitUntilReady(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let _ = try? await leader() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        let logs = members.map { member in
            let text = FileManager.default.contents(atPath: directory.appending("\(member.name).log")).map { String(decoding: $0, as: UTF8.self) } ?? ""
            return "\(member.name): \(text.suffix(600))"
        }
        throw GitCLI.Failure(arguments: ["etcd"], status: -1, standardError: "etcd did not elect a leader at \(endpoints); logs: \(logs)")
    }

    /// The member that leads now, as every running member sees it.
    public func leader() async throws -> Member {
        var leaders = Set<String>()
        var names: [String: String] = [:]
        for member in runningMembers {
            let status = try await post(member, "/v3/maintenance/status", [:])
            guard let leader = status["leader"] as? String, leader != "0",
                let header = status["header"] as? [String: Any], let id = header["member_id"] as? String
            else { throw GitCLI.Failure(arguments: ["etcd status"], status: -1, standardError: "\(member.name) has no leader") }
            leaders.insert(leader)
            names[id] = member.name
        }
        guard leaders.count == 1, let id = leaders.first, let name = names[id], let member = members.first(where: { $0.name == name }) else {
            throw GitCLI.Failure(arguments: ["etcd status"], status: -1, standardError: "members disagree on the leader")
        }
        return member
    }

    public var runningMembers: [Member] {
        lock.withLock { members.filter { processes[$0.name]?.isRunning == true } }
    }

    /// SIGKILLs one member and waits until it is gone.
    public func kill(_ member: Member) {
        guard let process = lock.withLock({ processes.removeValue(forKey: member.name) }) else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(process.processIdentifier, &status, 0)
    }

    /// Stops every member and removes their data.
    public func stop() {
        for member in members { kill(member) }
        directory.remove()
    }

    deinit { stop() }

    // MARK: Auth and maintenance through the JSON gateway

    /// Adds a user whose role may read (or read and write) every key under each prefix.
    public func addUser(_ name: String, password: String, prefixes: [String], write: Bool) async throws {
        let member = members[0]
        _ = try await post(member, "/v3/auth/user/add", ["name": name, "password": password])
        _ = try await post(member, "/v3/auth/role/add", ["name": name])
        for prefix in prefixes {
            let permission: [String: Any] = [
                "permType": write ? "READWRITE" : "READ", "key": Self.base64(prefix), "range_end": Self.base64(Self.prefixEnd(prefix)),
            ]
            _ = try await post(member, "/v3/auth/role/grant", ["name": name, "perm": permission])
        }
        _ = try await post(member, "/v3/auth/user/grant", ["user": name, "role": name])
    }

    /// Creates root and turns auth on; afterwards every request needs a user.
    public func enableAuth(rootPassword: String) async throws {
        let member = members[0]
        _ = try await post(member, "/v3/auth/user/add", ["name": "root", "password": rootPassword])
        _ = try await post(member, "/v3/auth/role/add", ["name": "root"])
        _ = try await post(member, "/v3/auth/user/grant", ["user": "root", "role": "root"])
        _ = try await post(member, "/v3/auth/enable", [:])
    }

    /// Drops history up to the current revision, so older start revisions are gone.
    public func compact() async throws {
        let status = try await post(members[0], "/v3/kv/range", ["key": Self.base64("git2kv-compaction-probe")])
        guard let header = status["header"] as? [String: Any], let revision = header["revision"] as? String else {
            throw GitCLI.Failure(arguments: ["etcd compact"], status: -1, standardError: "no revision in \(status)")
        }
        _ = try await post(members[0], "/v3/kv/compaction", ["revision": revision, "physical": true])
    }

    /// Every key and value, and each key's version (how many times it was written).
    public func dump(prefix: String, user: (String, String)? = nil) async throws -> [String: (value: Data, version: Int)] {
        var headers: [String: String] = [:]
        if let user {
            let login = try await post(members[0], "/v3/auth/authenticate", ["name": user.0, "password": user.1])
            headers["Authorization"] = login["token"] as? String
        }
        let member = runningMembers.first ?? members[0]
        let answer = try await post(
            member, "/v3/kv/range", ["key": Self.base64(prefix), "range_end": Self.base64(Self.prefixEnd(prefix))], headers: headers)
        var result: [String: (value: Data, version: Int)] = [:]
        for pair in answer["kvs"] as? [[String: Any]] ?? [] {
            guard let key = (pair["key"] as? String).flatMap({ Data(base64Encoded: $0) }) else { continue }
            let value = (pair["value"] as? String).flatMap { Data(base64Encoded: $0) } ?? Data()
            result[String(decoding: key, as: UTF8.self)] = (value, Int(pair["version"] as? String ?? "0") ?? 0)
        }
        return result
    }

    /// Every value `key` held, oldest first, read back through etcd's history (nothing may
    /// have been compacted): each write of the key is one element.
    public func history(of key: String) async throws -> [Data] {
        let member = runningMembers.first ?? members[0]
        var values: [Data] = []
        var revision: String?
        while true {
            var body: [String: Any] = ["key": Self.base64(key)]
            if let revision { body["revision"] = revision }
            let answer = try await post(member, "/v3/kv/range", body)
            guard let pair = (answer["kvs"] as? [[String: Any]])?.first,
                let modified = (pair["mod_revision"] as? String).flatMap(Int.init),
                let created = (pair["create_revision"] as? String).flatMap(Int.init)
            else { break }
            values.append((pair["value"] as? String).flatMap { Data(base64Encoded: $0) } ?? Data())
            if modified == created { break }
            revision = String(modified - 1)
        }
        return values.reversed()
    }

    @discardableResult
    public func post(_ member: Member, _ path: String, _ body: [String: Any], headers: [String: String] = [:]) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: member.clientURL + path)!)
        request.httpMethod = "POST"
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        request.timeoutInterval = 10
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw GitCLI.Failure(arguments: ["etcd", path], status: -1, standardError: String(decoding: data, as: UTF8.self))
        }
        return object
    }

    public static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    static func prefixEnd(_ prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return String(decoding: bytes, as: UTF8.self)
            }
            bytes.removeLast()
        }
        return "\0"
    }
}
