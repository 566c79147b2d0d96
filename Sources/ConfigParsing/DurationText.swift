import Foundation
/// `500ms`, `30s`, `5m`, `1h`, `1m30s`; a bare number is seconds.
package enum DurationText {
    package static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds >= 0 { return .milliseconds(Int64(seconds * 1000)) }
        var total = Duration.zero
        var number = ""
        var unit = ""
        var sawPart = false
        func flush() -> Bool {
            guard let value = Double(number), value >= 0 else { return false }
            let milliseconds: Double
            switch unit {
            case "ms": milliseconds = value
            case "s": milliseconds = value * 1000
            case "m": milliseconds = value * 60_000
            case "h": milliseconds = value * 3_600_000
            default: return false
            }
            total += .milliseconds(Int64(milliseconds))
            number = ""
            unit = ""
            sawPart = true
            return true
        }
        for character in trimmed {
            if character.isNumber || character == "." {
                if !unit.isEmpty, !flush() { return nil }
                number.append(character)
            } else if character.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(character)
            } else {
                return nil
            }
        }
        guard !number.isEmpty, flush() else { return nil }
        return sawPart ? total : nil
    }
}

/// `4096`, `512KiB`, `1MiB`, `2MB` (powers of 1024 either way: config limits are binary).
package enum ByteCountText {
    package static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isNumber }
        guard let value = Int(digits) else { return nil }
        let multiplier: Int
        switch trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased() {
        case "", "b": multiplier = 1
        case "k", "kb", "kib": multiplier = 1 << 10
        case "m", "mb", "mib": multiplier = 1 << 20
        case "g", "gb", "gib": multiplier = 1 << 30
        default: return nil
        }
        return value * multiplier
    }
}

extension Duration {
    /// `30s`, `2m`, `1.5s`: as durations are written in configs.
    package var configText: String {
        let (seconds, attoseconds) = components
        if attoseconds == 0 {
            if seconds % 3600 == 0, seconds > 0 { return "\(seconds / 3600)h" }
            if seconds % 60 == 0, seconds > 0 { return "\(seconds / 60)m" }
            return "\(seconds)s"
        }
        let value = Double(seconds) + Double(attoseconds) / 1e18
        return "\(value)s"
    }
}
