import UnixSignals

/// Waits for SIGTERM or SIGINT.
package enum StopSignals {
    package static func wait() async {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        for await _ in signals { return }
    }
}
