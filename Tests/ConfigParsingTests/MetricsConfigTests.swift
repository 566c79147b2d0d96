@testable import ConfigParsing
import Testing

@Suite("metrics: configuration")
struct MetricsConfigTests {
    func parse(_ yaml: String, allowsEvents: Bool = true) throws(ConfigError) -> MetricsConfig {
        let root = try ConfigNode.parse("metrics: \(yaml)\n", file: "test.yaml")
        return try MetricsConfig(try root.mapping().required("metrics"), allowsEvents: allowsEvents)
    }

    @Test("an agent, tags and events")
    func full() throws {
        let config = try parse(#"{dogstatsd: "127.0.0.1:8125", tags: ["env:prod", team], events: true}"#)
        #expect(config.dogStatsD == DogStatsDAddress("127.0.0.1:8125"))
        #expect(config.dogStatsD?.description == "127.0.0.1:8125")
        #expect(config.tags == ["env:prod", "team"])
        #expect(config.events)
        #expect(DogStatsDAddress("[::1]:8125")?.host == "::1")
    }

    @Test("bad values are refused with the file, the line and what is wrong", arguments: [
        (#"{dogstatsd: "8125"}"#, "dogstatsd must be HOST:PORT"),
        (#"{dogstatsd: ":8125"}"#, "dogstatsd must be HOST:PORT"),
        (#"{dogstatsd: "agent:0"}"#, "dogstatsd must be HOST:PORT"),
        (#"{dogstatsd: "agent:8125", tags: ["a|b"]}"#, "which DogStatsD uses as a separator"),
        (#"{tags: [env:prod]}"#, "need dogstatsd"),
        (#"{dogstatsd: "agent:8125", event: true}"#, "event"),
    ])
    func refused(yaml: String, message: String) {
        #expect {
            try parse(yaml)
        } throws: { error in
            "\(error)".hasPrefix("test.yaml:1: ") && "\(error)".contains(message)
        }
    }

    @Test("events in a config whose process delivers nothing are refused")
    func eventsOnlyForTheRenderer() {
        #expect(throws: ConfigError.self) { try parse(#"{dogstatsd: "agent:8125", events: true}"#, allowsEvents: false) }
    }
}
