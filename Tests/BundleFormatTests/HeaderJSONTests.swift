import Foundation
import Testing

@testable import BundleFormat

/// The header writer must give exactly the bytes the generic canonical encoder gives, or the
/// same files would encode differently from one release to the next.
@Suite("Bundle header JSON")
struct HeaderJSONTests {
    static let awkward: [String] = [
        "", "plain", "a/b/c.conf", #"quote " and backslash \ and slash /"#,
        String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }), "\u{7F} delete",
        "café", "cafe\u{301}", "emoji 🚀", "line\u{2028}separator\u{2029}", "nul\u{0}byte", "ÿ\u{FEFF}bom",
    ]

    @Test("the direct writer and the generic canonical encoder agree byte for byte")
    func sameBytes() {
        for text in Self.awkward {
            let header = BundleHeader(
                source: BundleSource(repo: text, branch: "main/" + text, path: text),
                commit: BundleCommit(id: String(repeating: "a", count: 40), author: text, email: text, time: -5, summary: text),
                files: [
                    BundleFileEntry(path: text, mode: .regular, sha256: String(repeating: "0", count: 64), size: 0),
                    BundleFileEntry(path: "x" + text, mode: .executable, sha256: String(repeating: "f", count: 64), size: Int.max),
                ],
                digest: String(repeating: "b", count: 64))
            #expect(header.canonicalJSON() == CanonicalJSON.encode(header), "differs for \(text.debugDescription)")
        }
        let empty = BundleHeader(
            source: BundleSource(repo: "r", branch: "b", path: "p"),
            commit: BundleCommit(id: "", author: "", email: "", time: 0, summary: ""), files: [], digest: "")
        #expect(empty.canonicalJSON() == CanonicalJSON.encode(empty))
    }
}
