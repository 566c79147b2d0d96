/// The header's canonical JSON written directly: the same bytes as `CanonicalJSON.encode`
/// (sorted keys, no whitespace, `/` unescaped), without the generic encoder's cost, which was
/// most of the time to encode a bundle of many small files.
extension BundleHeader {
    func canonicalJSON() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512 + files.count * 160)
        out.append(contentsOf: #"{"commit":{"author":"#.utf8)
        JSONString.append(commit.author, into: &out)
        out.append(contentsOf: #","email":"#.utf8)
        JSONString.append(commit.email, into: &out)
        out.append(contentsOf: #","id":"#.utf8)
        JSONString.append(commit.id, into: &out)
        out.append(contentsOf: #","summary":"#.utf8)
        JSONString.append(commit.summary, into: &out)
        out.append(contentsOf: #","time":"#.utf8)
        out.append(contentsOf: String(commit.time).utf8)
        out.append(contentsOf: #"},"digest":"#.utf8)
        JSONString.append(digest, into: &out)
        out.append(contentsOf: #","files":["#.utf8)
        for (position, file) in files.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"mode":"#.utf8)
            JSONString.append(file.mode.rawValue, into: &out)
            out.append(contentsOf: #","path":"#.utf8)
            JSONString.append(file.path, into: &out)
            out.append(contentsOf: #","sha256":"#.utf8)
            JSONString.append(file.sha256, into: &out)
            out.append(contentsOf: #","size":"#.utf8)
            out.append(contentsOf: String(file.size).utf8)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #"],"source":{"branch":"#.utf8)
        JSONString.append(source.branch, into: &out)
        out.append(contentsOf: #","path":"#.utf8)
        JSONString.append(source.path, into: &out)
        out.append(contentsOf: #","repo":"#.utf8)
        JSONString.append(source.repo, into: &out)
        out.append(contentsOf: "}}".utf8)
        return out
    }
}
