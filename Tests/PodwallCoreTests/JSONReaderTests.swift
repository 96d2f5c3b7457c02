import Testing
@testable import PodwallCore

@Suite("JSON reader")
struct JSONReaderTests {
    @Test func readsAllValueKindsAndObjectLines() throws {
        let text = """
            {"s": "a\\"b\\\\c\\u00e9\\ud83d\\ude00\\n", "n": -12.5e1, "t": true, "f": false, "z": null,
             "a": [1, {"k": "v"}], "o": {}}
            """
        let object = try #require(try JSONReader.parse(text).objectValue)
        #expect(object.line == 1)
        #expect(object["s"] == .string("a\"b\\cé😀\n"))
        #expect(object["n"] == .number(-125))
        #expect(object["t"] == .bool(true))
        #expect(object["f"] == .bool(false))
        #expect(object["z"] == .null)
        #expect(object["o"] == .object(JSONObject(line: 2, members: [:])))
        guard case .array(let array)? = object["a"] else {
            Issue.record("'a' is not an array")
            return
        }
        #expect(array.first == .number(1))
        #expect(array.last?.objectValue?.line == 2)
    }

    @Test(arguments: [
        ("", "unexpected end of input"),
        ("{\"a\" 1}", "unexpected '1'"),
        ("{\"a\": 1,}", "unexpected '}'"),
        ("[1 2]", "unexpected '2'"),
        ("01", "invalid number"),
        ("1.", "invalid number"),
        ("\"tab\there\"", "control character in string"),
        ("\"\\x\"", "invalid escape in string"),
        ("\"\\ud800\"", "unpaired surrogate in string"),
        ("\"open", "unterminated string"),
        ("tru", "unexpected 't'"),
        ("{} {}", "unexpected '{'"),
        (String(repeating: "[", count: 65) + String(repeating: "]", count: 65), "nesting deeper than 64 levels")
    ])
    func refusesInvalidJSON(_ text: String, _ message: String) {
        #expect(throws: JSONSyntaxError(line: 1, message: message)) { try JSONReader.parse(text) }
    }
}
