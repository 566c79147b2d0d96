public import Secrets

/// Reading the KV ACL token from where the configuration says (a file or an environment
/// variable). The token itself never appears in errors.
public enum KVToken {
    public static func read(_ source: SecretSource) throws(KVError) -> String {
        do {
            return try source.read()
        } catch {
            throw KVError(kind: .tokenUnavailable, operation: "read KV token", message: error.message)
        }
    }
}
