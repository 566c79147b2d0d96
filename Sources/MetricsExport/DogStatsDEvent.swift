/// A Datadog event sent over DogStatsD: what happened, in a title and a text.
public struct DogStatsDEvent: Sendable, Equatable {
    public enum AlertType: String, Sendable {
        case info, success, warning, error
    }

    public var title: String
    public var text: String
    public var alertType: AlertType
    /// Seconds since 1970; nil lets the agent stamp it.
    public var timestamp: Int?
    /// Events with one key are grouped in Datadog's event stream.
    public var aggregationKey: String?
    /// Tags of this event only (the configured ones are added to every event).
    public var tags: [String]

    public init(title: String, text: String, alertType: AlertType, timestamp: Int? = nil, aggregationKey: String? = nil, tags: [String] = []) {
        self.title = title
        self.text = text
        self.alertType = alertType
        self.timestamp = timestamp
        self.aggregationKey = aggregationKey
        self.tags = tags
    }
}
