import Foundation

/// The DogStatsD datagram format: `name:value|type|#tag,tag` for metrics and
/// `_e{title,text}:title|text|…` for events (Datadog's "DogStatsD datagram shell").
package enum DogStatsDLine {
    package enum MetricType: String, Sendable {
        case count = "c"
        case gauge = "g"
        case histogram = "h"
        case timing = "ms"
    }

    package static func metric(_ name: String, value: String, type: MetricType, tags: [String]) -> String {
        var line = "\(sanitizedName(name)):\(value)|\(type.rawValue)"
        if !tags.isEmpty { line += "|#" + tags.joined(separator: ",") }
        return line
    }

    package static func event(_ event: DogStatsDEvent, tags: [String]) -> String {
        let title = escaped(event.title)
        let text = escaped(event.text)
        var line = "_e{\(title.utf8.count),\(text.utf8.count)}:\(title)|\(text)"
        if let timestamp = event.timestamp { line += "|d:\(timestamp)" }
        if let aggregationKey = event.aggregationKey { line += "|k:\(tagSafe(aggregationKey))" }
        line += "|t:\(event.alertType.rawValue)|s:git2kv"
        let allTags = tags + event.tags
        if !allTags.isEmpty { line += "|#" + allTags.joined(separator: ",") }
        return line
    }

    /// A label pair as a tag: `key:value`, with the characters DogStatsD splits on replaced.
    package static func tag(_ key: String, _ value: String) -> String {
        "\(tagSafe(key)):\(tagSafe(value))"
    }

    package static func value(_ number: Double) -> String {
        if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
        return String(number)
    }

    private static func tagSafe(_ text: String) -> String {
        String(text.map { "|,#\n\r ".contains($0) ? "_" : $0 })
    }

    private static func sanitizedName(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" ? $0 : "_" })
    }

    /// Event titles and texts carry newlines as the two characters `\n`; a `|` would end the field.
    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "|", with: "¦")
    }
}
