/// Removes user info from URLs in a text (`https://user:token@host` → `https://***@host`):
/// tokens are often passed there, and as user names too.
enum URLCredentialRedaction {
    static func redact(_ text: String) -> String {
        guard text.contains("://"), text.contains("@") else { return text }
        var result = ""
        var remainder = Substring(text)
        while let schemeRange = remainder.range(of: "://") {
            result += remainder[..<schemeRange.upperBound]
            remainder = remainder[schemeRange.upperBound...]
            let authorityEnd = remainder.firstIndex { "/ '\"\n".contains($0) } ?? remainder.endIndex
            let authority = remainder[..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                result += "***" + authority[at...]
            } else {
                result += authority
            }
            remainder = remainder[authorityEnd...]
        }
        return result + remainder
    }
}
