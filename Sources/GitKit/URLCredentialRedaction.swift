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

    /// `url` without its user info (`https://user:token@host/x` → `https://host/x`), as stored on
    /// disk: a password or token in a URL is passed to each fetch, never written to a config.
    static func withoutUserInfo(_ url: String) -> String {
        guard let schemeRange = url.range(of: "://") else { return url }
        let rest = url[schemeRange.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<schemeRange.upperBound]) + rest[rest.index(after: at)...]
    }
}
