import UnixSignals

/// Waits for SIGTERM or SIGINT.
enum StopSignals {
    static func wait() async {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        for await _ in signals { return }
    }
}
