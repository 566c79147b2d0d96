import Foundation
import Hummingbird

/// `GET /v1/agent/metrics` in Consul's JSON shape (gauges only): the numbers an operator of
/// kv-server watches. Counts only; no key, value or token appears in it.
struct AgentMetricsEndpoint {
    struct Gauge: Encodable {
        let name: String
        let value: Double
        let labels: [String: String] = [:]

        enum CodingKeys: String, CodingKey { case name = "Name", value = "Value", labels = "Labels" }
    }

    struct Body: Encodable {
        let timestamp: String
        let gauges: [Gauge]
        let points: [String] = []
        let counters: [String] = []
        let samples: [String] = []

        enum CodingKeys: String, CodingKey {
            case timestamp = "Timestamp", gauges = "Gauges", points = "Points", counters = "Counters", samples = "Samples"
        }
    }

    let store: ServerStore
    let requests: RequestCounter

    func respond() async -> Response {
        let gauges = [
            Gauge(name: "git2kv.kv_server.blocking_queries", value: Double(await store.waitingQueries)),
            Gauge(name: "git2kv.kv_server.index", value: Double(await store.currentIndex)),
            Gauge(name: "git2kv.kv_server.requests", value: Double(requests.value)),
        ]
        return ConsulResponse.json(Body(timestamp: ISO8601DateFormatter().string(from: Date()), gauges: gauges))
    }
}
