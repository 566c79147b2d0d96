import KV
import Logging
import Pipeline

/// What every repo worker of one daemon shares: limits, metrics, logs.
struct DaemonContext: Sendable {
    let config: DaemonConfig
    let metrics: DaemonMetrics
    let throttle: TokenBucket
    let concurrency: ConcurrencyLimit
    let logger: Logger
    let clock: ServiceClock
    let fetcher: MirrorFetcher

    var runner: SyncRunner { SyncRunner(config: config, fetcher: fetcher) }
}
