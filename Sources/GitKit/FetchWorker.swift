import Foundation

/// A fetch run in a child process (`git2kv fetch-worker`), so that the parent can stop it at a
/// deadline: libgit2 1.5 has no network timeouts, and a thread blocked in it cannot be stopped.
///
/// The parent writes one request (JSON, secrets already read) to the child's standard input; the
/// child answers with one JSON event per line on standard output: `connected` once the remote
/// has listed its references, `progress` while objects arrive, then `finished` or `failed`
/// (`started` first, so the parent's connect deadline does not count the child's start-up).
public enum FetchWorker {
    /// Reads every secret of `credentials` now (a missing file fails here, in the parent) and
    /// encodes the request. It travels through a pipe, never through arguments or the environment.
    public static func request(mirror: String, url: String, credentials: GitCredentials, trust: RemoteTrust) throws(GitError) -> [UInt8] {
        let wire = Request(
            mirror: mirror, url: url, credentials: WireCredentials(try credentials.resolve()),
            credentialsDescription: credentials.description, trust: trust)
        do {
            return Array(try JSONEncoder().encode(wire))
        } catch {
            throw GitError(kind: .libgit2, operation: "fetch \(url)", message: "cannot encode the fetch request: \(error)")
        }
    }

    /// The child's side: runs the fetch `request` describes, writing events through `emit`.
    /// Progress is passed on at most every `progressInterval`.
    public static func serve(request bytes: [UInt8], progressInterval: Duration = .milliseconds(500), emit: @escaping @Sendable (String) -> Void) async {
        let request: Request
        do {
            request = try JSONDecoder().decode(Request.self, from: Data(bytes))
        } catch {
            emit(encode(.failed(GitError(kind: .libgit2, operation: "fetch", message: "unreadable fetch request: \(error)"))))
            return
        }
        emit(encode(.started))
        do {
            let repository = try GitRepository(openingAt: request.mirror)
            let throttle = ProgressThrottle(interval: progressInterval)
            let updates = try await repository.fetch(
                url: request.url, resolvedCredentials: request.credentials.resolved,
                credentialsDescription: request.credentialsDescription, trust: request.trust,
                connected: { emit(encode(.connected)) },
                progress: { progress in if throttle.admits() { emit(encode(.progress(progress))) } })
            emit(encode(.finished(updates)))
        } catch {
            emit(encode(.failed(error)))
        }
    }

    /// One line the child wrote; nil for anything that is not an event.
    public static func decodeEvent(_ line: some StringProtocol) -> FetchWorkerEvent? {
        guard let event = try? JSONDecoder().decode(WireEvent.self, from: Data(line.utf8)) else { return nil }
        return event.decoded
    }

    static func encode(_ event: FetchWorkerEvent) -> String {
        guard let data = try? JSONEncoder().encode(WireEvent(event)) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    struct Request: Codable {
        var mirror: String
        var url: String
        var credentials: WireCredentials
        var credentialsDescription: String
        var trust: RemoteTrust
    }
}

/// What a fetch worker reports.
public enum FetchWorkerEvent: Sendable, Equatable {
    /// The worker runs and is about to contact the remote.
    case started
    /// The remote answered and listed its references.
    case connected
    case progress(TransferProgress)
    case finished([ReferenceUpdate])
    case failed(GitError)

    /// The last event of a fetch.
    public var isFinal: Bool {
        switch self {
        case .finished, .failed: true
        case .started, .connected, .progress: false
        }
    }
}

/// Lets progress through at most once per interval; libgit2 reports it per object.
private final class ProgressThrottle: @unchecked Sendable {
    private let interval: Duration
    private let clock = ContinuousClock()
    private let lock = NSLock()
    private var last: ContinuousClock.Instant?

    init(interval: Duration) { self.interval = interval }

    func admits() -> Bool {
        lock.withLock {
            let now = clock.now
            if let last, last.duration(to: now) < interval { return false }
            last = now
            return true
        }
    }
}
