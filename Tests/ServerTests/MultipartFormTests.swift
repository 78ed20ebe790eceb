import MultipartForms
import NIOCore
import Testing

/// The multipart/form-data reader: RFC 2046 syntax, limits, and the inputs that made MultipartKit trap.
@Suite struct MultipartFormTests {
    static func parse(_ text: String, boundary: String = "b0undary") throws(MultipartForm.Failure) -> [MultipartForm.Part] {
        try MultipartForm.parse(ByteBuffer(string: text), boundary: boundary, maxParts: 16, maxHeaderBytes: 8192)
    }

    static func content(_ part: MultipartForm.Part, in text: String) -> String {
        let bytes = Array(text.utf8)[part.content]
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func readsPartsTheirHeadersAndContentsIgnoringPreambleAndEpilogue() throws {
        let text =
            "This is the preamble.\r\n--b0undary\r\nContent-Disposition: form-data; name=\"scale\"\r\n\r\n3\r\n"
            + "--b0undary  \r\ncontent-disposition: form-data; name=image; filename=\"a; \\\"b\\\".png\"\r\n"
            + "Content-Type:   image/png  \r\n\r\n\r\n--b0undar\r\n-- not yet\r\n--b0undary--\r\nthe epilogue"
        let parts = try Self.parse(text)
        #expect(parts.count == 2)
        #expect(parts[0].name == "scale")
        #expect(Self.content(parts[0], in: text) == "3")
        #expect(parts[1].name == "image")
        #expect(parts[1].filename == "a; \"b\".png")
        #expect(parts[1].header("content-type") == "image/png")
        // A partial boundary inside the content is content.
        #expect(Self.content(parts[1], in: text) == "\r\n--b0undar\r\n-- not yet")
    }

    @Test func theFirstBoundaryMayOpenTheBodyOrFollowALineBreak() throws {
        #expect(try Self.parse("--b0undary\r\nA: 1\r\n\r\nx\r\n--b0undary--").count == 1)
        #expect(try Self.parse("\r\n--b0undary\r\nA: 1\r\n\r\nx\r\n--b0undary--").count == 1)
    }

    @Test(arguments: [
        ("no boundary at all", "malformed"),
        ("--b0undary--\r\n", "malformed"),
        ("--b0undary\r\nA: 1\r\n\r\nx", "unterminated"),
        ("--b0undary\r\nA: 1\r\n", "unterminated"),
        ("--b0undary", "unterminated"),
        ("--b0undaryX\r\n\r\nx\r\n--b0undary--", "malformed"),
        ("--b0undary\r\nNo colon\r\n\r\nx\r\n--b0undary--", "malformed"),
        ("--b0undary\r\n: no name\r\n\r\nx\r\n--b0undary--", "malformed"),
        ("--b0undary\r\n folded: header\r\n\r\nx\r\n--b0undary--", "malformed"),
    ])
    func malformedBodiesAreRefused(_ text: String, _ kind: String) {
        do {
            _ = try Self.parse(text)
            Issue.record("accepted \(text.debugDescription)")
        } catch {
            switch error {
            case .malformed: #expect(kind == "malformed", "\(text.debugDescription): \(error)")
            case .unterminated: #expect(kind == "unterminated", "\(text.debugDescription): \(error)")
            default: Issue.record("\(text.debugDescription): \(error)")
            }
        }
    }

    /// MultipartKit 4.7 indexed a 128-entry table with each header-name byte: a byte ≥ 0x80 trapped.
    @Test func nonASCIIHeaderNamesAreRefusedAndNonASCIIValuesKept() throws {
        for byte in [UInt8(0x80), 0xC3, 0xFF] {
            var bytes = Array("--b0undary\r\nX".utf8) + [byte] + Array(": 1\r\n\r\nx\r\n--b0undary--".utf8)
            #expect(throws: MultipartForm.Failure.self) {
                try MultipartForm.parse(ByteBuffer(bytes: bytes), boundary: "b0undary", maxParts: 16, maxHeaderBytes: 99)
            }
            bytes = Array("--b0undary\r\nContent-Disposition: form-data; name=\"image\"; filename=\"фото.png\"\r\n\r\nx\r\n--b0undary--".utf8)
            let parts = try MultipartForm.parse(
                ByteBuffer(bytes: bytes), boundary: "b0undary", maxParts: 16, maxHeaderBytes: 8192)
            #expect(parts.first?.filename == "фото.png")
        }
    }

    @Test func partAndHeaderLimitsHold() {
        let many = String(repeating: "--b0undary\r\nA: 1\r\n\r\nx\r\n", count: 17) + "--b0undary--"
        #expect(throws: MultipartForm.Failure.tooManyParts(16)) { try Self.parse(many) }
        let sixteen = String(repeating: "--b0undary\r\nA: 1\r\n\r\nx\r\n", count: 16) + "--b0undary--"
        #expect((try? Self.parse(sixteen))?.count == 16)
        let longHeaders = "--b0undary\r\n" + String(repeating: "A: \(String(repeating: "v", count: 1000))\r\n", count: 9)
            + "\r\nx\r\n--b0undary--"
        #expect(throws: MultipartForm.Failure.headersTooLarge(8192)) { try Self.parse(longHeaders) }
    }

    @Test func dispositionParameters() {
        #expect(MultipartForm.parameters(of: "form-data; name=\"image\"; filename=\"p.png\"") == [
            "name": "image", "filename": "p.png",
        ])
        #expect(MultipartForm.parameters(of: "form-data;NAME=image ;filename=\"\"") == ["name": "image", "filename": ""])
        #expect(MultipartForm.parameters(of: "form-data") == [:])
        #expect(MultipartForm.parameters(of: "form-data; name=\"unterminated") == ["name": "unterminated"])
        #expect(MultipartForm.parameters(of: "form-data; name=\"a\\\\b\"; name=second") == ["name": "a\\b"])
    }
}
