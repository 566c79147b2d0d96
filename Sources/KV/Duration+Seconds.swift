extension Duration {
    /// The duration in seconds, for rates, ages, gauges and protocol fields.
    package var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
