import AsyncHTTPClient

extension KVError {
    /// A request that got no HTTP answer: a timeout, or nothing reachable at `address` (which
    /// names the server for the operator, for example `http://127.0.0.1:8500`).
    static func transport(_ error: any Error, operation: String, address: String) -> KVError {
        let text = String(describing: error)
        if error is CancellationError || (error as? HTTPClientError) == .cancelled {
            return KVError(kind: .cancelled, operation: operation, message: "cancelled before \(address) answered (stopping)")
        }
        let timedOut = (error as? HTTPClientError).map { [.deadlineExceeded, .readTimeout, .connectTimeout].contains($0) } ?? false
        if timedOut || text.lowercased().contains("timeout") {
            return KVError(kind: .timeout, operation: operation, message: "no answer from \(address) in time")
        }
        return KVError(kind: .connectionFailed, operation: operation, message: "cannot reach \(address): \(text)")
    }
}
