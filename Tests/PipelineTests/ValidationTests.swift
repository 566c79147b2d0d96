import Pipeline
import Testing

@Suite("File validation and path rules")
struct ValidationTests {
    let validator = FileValidator(rules: ValidationConfig())

    @Test("invalid JSON names the line")
    func invalidJSON() {
        let problem = validator.problem(path: "apps/web/config.json", content: Array("{\n  \"port\": 80,\n  \"workers\": }\n".utf8))
        #expect(problem?.file == "apps/web/config.json")
        #expect(problem?.line == 3)
        #expect(problem?.reason.hasPrefix("invalid JSON") == true)
        #expect(validator.problem(path: "ok.json", content: Array("{\"a\": [1, 2]}".utf8)) == nil)
        #expect(validator.problem(path: "empty.json", content: [])?.reason.contains("empty") == true)
    }

    @Test("invalid YAML names the line; an alias bomb is stopped")
    func invalidYAML() {
        let broken = validator.problem(path: "a.yaml", content: Array("a: 1\nb: [1, 2\nc: 3\n".utf8))
        #expect(broken?.line != nil)
        #expect(broken?.reason.hasPrefix("invalid YAML") == true)
        var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            bomb += "a\(level): &a\(level) [\(refs)]\n"
        }
        let problem = validator.problem(path: "bomb.yml", content: Array(bomb.utf8))
        #expect(problem?.reason.contains("alias bomb") == true)
        // The extension's case does not matter: the renderer would parse it as YAML too.
        #expect(validator.problem(path: "bomb.YAML", content: Array(bomb.utf8))?.reason.contains("alias bomb") == true)
        #expect(validator.problem(path: "x.JSON", content: Array("{".utf8))?.reason.hasPrefix("invalid JSON") == true)
        #expect(validator.problem(path: "fine.yml", content: Array("base: &b {x: 1}\nother: *b\n".utf8)) == nil)
    }

    @Test("binary content where text is required, and files over the size limit")
    func binaryAndSize() {
        #expect(validator.problem(path: "x.json", content: [0x7B, 0x00, 0x7D])?.reason.contains("binary") == true)
        #expect(validator.problem(path: "logo.png", content: [0x89, 0x00, 0xFF]) == nil)
        var textOnly = ValidationConfig()
        textOnly.textOnly = true
        textOnly.maxFileSize = 4
        let strict = FileValidator(rules: textOnly)
        #expect(strict.problem(path: "logo.png", content: [0x89, 0x00, 0xFF])?.reason.contains("binary") == true)
        #expect(strict.problem(path: "big.txt", content: Array("12345".utf8))?.reason.contains("over the limit of 4") == true)
    }

    @Test(
        "globs: * stays in a component, ** spans them, a bare name matches anywhere",
        arguments: [
            ("*.json", "web/config.json", true), ("*.json", "web/config.yaml", false),
            ("web/*.json", "web/config.json", true), ("web/*.json", "web/deep/config.json", false),
            ("web/**", "web/deep/config.json", true), ("**/config.json", "config.json", true),
            ("**/config.json", "a/b/config.json", true), ("secret.json", "a/secret.json", true),
            ("w?b/*", "web/x", true), ("w?b/*", "weeb/x", false),
        ])
    func globs(pattern: String, path: String, matches: Bool) {
        #expect(GlobPattern(pattern).matches(path) == matches)
    }
}

@Suite("File validation: truncated documents")
struct TruncatedDocumentTests {
    @Test("JSON that ends early is reported on its last line")
    func truncatedJSON() {
        let problem = FileValidator(rules: ValidationConfig()).problem(path: "a.json", content: Array("{\n\"port\": \n".utf8))
        #expect(problem?.line == 2)
    }
}
