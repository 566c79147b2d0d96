public import ServiceLifecycle

extension ServiceGroup {
    /// Runs the group in a task of its own, so that cancelling the caller asks the group for a
    /// graceful shutdown (services finish their work, release locks, close listeners) instead
    /// of cancelling the services mid-flight. For embedding: tests, `git2kv demo`.
    public func runShuttingDownGracefullyOnCancel() async throws {
        let running = Task { try await self.run() }
        try await withTaskCancellationHandler {
            try await running.value
        } onCancel: {
            Task { await self.triggerGracefulShutdown() }
        }
    }
}
