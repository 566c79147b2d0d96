import Crypto

/// HMAC-SHA256 signatures and shared tokens, compared in constant time.
public enum WebhookSignature {
    /// Checks a hex HMAC-SHA256 of `body` under `secret`, with an optional `sha256=` prefix.
    static func verifyHMAC(_ header: String, body: [UInt8], secret: String, requirePrefix: Bool) -> Bool {
        var text = Substring(header.trimmingCharacters(in: " \t"))
        if text.hasPrefix("sha256=") {
            text = text.dropFirst("sha256=".count)
        } else if requirePrefix {
            return false
        }
        guard let given = bytes(fromHex: text), given.count == SHA256.byteCount else { return false }
        let key = SymmetricKey(data: Array(secret.utf8))
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: body, using: key)
    }

    /// Compares a shared token without leaking, through timing, how much of it matched.
    static func tokensEqual(_ given: String, _ secret: String) -> Bool {
        // Hashing first gives equal-length inputs, so the comparison time does not depend on lengths either.
        let left = Array(SHA256.hash(data: Array(given.utf8)))
        let right = Array(SHA256.hash(data: Array(secret.utf8)))
        var difference: UInt8 = 0
        for (a, b) in zip(left, right) { difference |= a ^ b }
        return difference == 0
    }

    /// The hex HMAC-SHA256 of `body` under `secret`, as GitHub, Gitea and Bitbucket send it
    /// (after `sha256=` for GitHub and Bitbucket). For tests and tools that send webhooks.
    public static func sign(_ body: [UInt8], secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        let digits = Array("0123456789abcdef")
        return String(code.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
    }

    private static func bytes(fromHex text: Substring) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(text.count / 2)
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            result.append(byte)
            index = next
        }
        return result
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, set.contains(last) { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
