import StructuredText
import Testing

@Suite("structured files: formats, values as written, budgets")
struct StructuredParserTests {
    private func parse(_ text: String, _ format: StructuredFormat) throws -> StructuredValue {
        try StructuredParser.parse(Array(text.utf8), format: format)
    }

    private func member(_ value: StructuredValue, _ names: String...) -> StructuredValue? {
        var current = value
        for name in names {
            guard case .object(let members, _) = current, let found = members.last(where: { $0.name == name }) else { return nil }
            current = found.value
        }
        return current
    }

    private func scalar(_ value: StructuredValue?) -> StructuredScalar? {
        if case .scalar(let scalar)? = value { return scalar }
        return nil
    }

    @Test("the format comes from the extension, whatever its case")
    func formats() {
        #expect(StructuredFormat.of(path: "bomb.YAML") == .yaml)
        #expect(StructuredFormat.of(path: "a/b.Yml") == .yaml)
        #expect(StructuredFormat.of(path: "x.JSON") == .json)
        #expect(StructuredFormat.of(path: "app.Properties") == .properties)
        #expect(StructuredFormat.of(path: "notes.txt") == nil)
        #expect(StructuredFormat.of(path: "yaml") == nil)
    }

    @Test("YAML scalars keep their written form; the JSON form has their type")
    func yamlScalars() throws {
        let value = try parse("version: 1.10\nmode: 0644\nenabled: yes\noff: no\nday: 2024-01-02\nquoted: \"0644\"\nnothing: ~\nbig: 12345678901234567890\n", .yaml)
        #expect(scalar(member(value, "version"))?.text == "1.10")
        #expect(scalar(member(value, "version"))?.json == "1.10")
        #expect(scalar(member(value, "mode"))?.text == "0644")
        #expect(scalar(member(value, "mode"))?.json == "420")
        #expect(scalar(member(value, "enabled"))?.text == "yes")
        #expect(scalar(member(value, "enabled"))?.kind == .boolean(true))
        #expect(scalar(member(value, "off"))?.isTruthy == false)
        #expect(scalar(member(value, "day"))?.text == "2024-01-02")
        #expect(scalar(member(value, "quoted"))?.kind == .string)
        #expect(scalar(member(value, "quoted"))?.json == "\"0644\"")
        #expect(scalar(member(value, "nothing"))?.kind == .null)
        #expect(scalar(member(value, "big"))?.text == "12345678901234567890")
    }

    @Test("JSON numbers stay as written; objects keep their order and print as JSON")
    func jsonValues() throws {
        let value = try parse(#"{"b": 1.0, "a": 12345678901234567890, "s": "x\"y", "list": [1, true, null], "o": {"z": 1, "y": 2}}"#, .json)
        #expect(scalar(member(value, "b"))?.text == "1.0")
        #expect(scalar(member(value, "a"))?.text == "12345678901234567890")
        #expect(scalar(member(value, "s"))?.text == "x\"y")
        #expect(member(value, "list")?.json == "[1,true,null]")
        #expect(member(value, "o")?.json == #"{"z":1,"y":2}"#)
        #expect(value.json == #"{"b":1.0,"a":12345678901234567890,"s":"x\"y","list":[1,true,null],"o":{"z":1,"y":2}}"#)
    }

    @Test("merge keys fill in names a mapping does not set")
    func mergeKeys() throws {
        let value = try parse("base: &b {host: a, port: 1}\nsite:\n  <<: *b\n  port: 2\n", .yaml)
        #expect(scalar(member(value, "site", "host"))?.text == "a")
        #expect(scalar(member(value, "site", "port"))?.text == "2")
    }

    @Test("a .properties key may be a value and a prefix, in either order")
    func propertiesPrefixes() throws {
        for text in ["c.d=3\nc=4\n", "c=4\nc.d=3\n"] {
            let value = try parse(text, .properties)
            guard case .object(_, let own)? = member(value, "c") else {
                Issue.record("c is not an object in \(text)")
                continue
            }
            #expect(own?.text == "4")
            #expect(scalar(member(value, "c", "d"))?.text == "3")
        }
    }

    @Test("an alias bomb stops at the budget, whatever the file's size")
    func aliasBomb() throws {
        var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            bomb += "a\(level): &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", "))]\n"
        }
        #expect(bomb.utf8.count < 1_000)
        #expect(throws: StructuredError.self) { try parse(bomb, .yaml) }
        do {
            _ = try parse(bomb, .yaml)
        } catch let error as StructuredError {
            #expect(error.reason.contains("alias bomb"))
        }
        // Within budget: an anchor used twice is fine.
        #expect(scalar(member(try parse("a: &x {k: v}\nb: *x\n", .yaml), "b", "k"))?.text == "v")
    }

    @Test("invalid YAML and JSON name the problem; binary content is refused")
    func invalid() throws {
        let broken = Result { try parse("a: [1, 2\nb: 3\n", .yaml) }
        #expect(throws: StructuredError.self, "\(broken)") { try broken.get() }
        #expect(throws: StructuredError.self) { try parse("{\"a\": }", .json) }
        #expect(throws: StructuredError.self) { try StructuredParser.parse([0x61, 0x00], format: .yaml) }
        let deep = String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)
        #expect(throws: StructuredError.self) { try parse(deep, .json) }
    }
}
