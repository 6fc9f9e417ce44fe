import Testing

@testable import MaskEval

/// The JSON writer's strings: plain ones appended whole, the rest escaped as RFC 8259 asks.
@Suite struct JSONTests {
    @Test(arguments: [
        ("liver", #""liver""#),
        ("left putamen (L)", #""left putamen (L)""#),
        ("Ünïcødé ✓", #""Ünïcødé ✓""#),
        ("a\"b", #""a\"b""#),
        ("back\\slash", #""back\\slash""#),
        ("line\nbreak\ttab\rreturn", #""line\nbreak\ttab\rreturn""#),
        ("bell\u{07}", #""bell\u0007""#),
        ("", #""""#),
    ])
    func stringsAreEscapedExactlyWhenNeeded(value: String, expected: String) throws {
        #expect(JSONValue.string(value).rendered() == expected)
        #expect(try JSONValue.parse(expected) == .string(value))
    }
}
