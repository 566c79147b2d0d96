/// The KV lock a leader holds; every transaction it sends checks it still holds it, so a
/// replica that lost leadership cannot write even if it has not noticed yet.
public struct LeaderLock: Sendable, Equatable {
    public let key: String
    public let session: String

    public init(key: String, session: String) {
        self.key = key
        self.session = session
    }
}
