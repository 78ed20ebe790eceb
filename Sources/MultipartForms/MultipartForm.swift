import Foundation
import NIOCore

/// The parts of a `multipart/form-data` body (RFC 7578, syntax of RFC 2046 §5.1.1), read in place from the body's
/// buffer within limits on parts and header bytes.
///
/// Written here rather than with MultipartKit: MultipartKit 4.7 traps on a part-header name byte ≥ 0x80 (it indexes
/// a 128-entry table with the byte; found by `scripts/fuzz multipart`), so one request could stop the server.
package struct MultipartForm {
    /// One part: its headers and where its content lies in the body.
    package struct Part {
        /// The part's header fields in order, names as sent.
        package var headers: [(name: String, value: String)] = []
        /// The content's offsets in the body's readable bytes.
        package var content: Range<Int> = 0..<0

        /// The first header named `name` (case-insensitively).
        package func header(_ name: String) -> String? {
            let wanted = name.lowercased()
            return headers.first { $0.name.lowercased() == wanted }?.value
        }

        /// The form field's name: the `name` parameter of `Content-Disposition`.
        package var name: String? { dispositionParameter("name") }
        /// The file's name as sent: the `filename` parameter of `Content-Disposition`.
        package var filename: String? { dispositionParameter("filename") }

        /// A parameter of the `Content-Disposition` header (`form-data; name="image"; filename="a.png"`), its
        /// quoted-string unescaped.
        package func dispositionParameter(_ key: String) -> String? {
            guard let disposition = header("Content-Disposition") else { return nil }
            return MultipartForm.parameters(of: disposition)[key.lowercased()]
        }
    }

    /// Why a body is not a well-formed form, or breaks a limit.
    package enum Failure: Error, Equatable {
        /// The body does not follow the multipart syntax (the message says where).
        case malformed(String)
        /// The body has more parts than allowed.
        case tooManyParts(Int)
        /// A part has more header bytes than allowed.
        case headersTooLarge(Int)
        /// The body ends before its closing boundary.
        case unterminated
    }

    /// The parts of `body`, whose boundary is `boundary`; at most `maxParts` parts of at most `maxHeaderBytes` header
    /// bytes each. The preamble and epilogue are ignored; the content of a part is never copied.
    package static func parse(
        _ body: ByteBuffer, boundary: String, maxParts: Int, maxHeaderBytes: Int
    ) throws(Failure) -> [Part] {
        let bytes = body.readableBytesUInt8Span
        let dashBoundary = Array("--\(boundary)".utf8)
        let delimiter: [UInt8] = [.cr, .lf] + dashBoundary
        var position: Int
        if matches(bytes, dashBoundary, at: 0) {
            position = dashBoundary.count
        } else if let found = find(bytes, delimiter, from: 0) {
            position = found + delimiter.count
        } else {
            throw .malformed("no boundary line (--\(boundary)) starts a part")
        }
        var parts: [Part] = []
        while true {
            // After a boundary: "--" closes the body; otherwise optional padding, then CRLF and a part.
            if matches(bytes, [.hyphen, .hyphen], at: position) {
                guard !parts.isEmpty else { throw .malformed("the body closes before its first part") }
                return parts
            }
            while position < bytes.count && (bytes[position] == .space || bytes[position] == .tab) { position += 1 }
            guard position < bytes.count else { throw .unterminated }
            guard matches(bytes, [.cr, .lf], at: position) else {
                throw .malformed("a boundary line is followed by other characters than a line break")
            }
            position += 2
            guard parts.count < maxParts else { throw .tooManyParts(maxParts) }
            var part = Part()
            var headerBytes = 0
            while true {
                guard let lineEnd = find(bytes, [.cr, .lf], from: position) else { throw .unterminated }
                if lineEnd == position {
                    position += 2
                    break
                }
                headerBytes += lineEnd - position
                guard headerBytes <= maxHeaderBytes else { throw .headersTooLarge(maxHeaderBytes) }
                part.headers.append(try header(bytes, position..<lineEnd))
                position = lineEnd + 2
            }
            guard let end = find(bytes, delimiter, from: position) else { throw .unterminated }
            part.content = position..<end
            parts.append(part)
            position = end + delimiter.count
        }
    }

    /// A header line `name: value`: the name a token (RFC 9110 tchar), the value without surrounding blanks.
    private static func header(_ bytes: borrowing Span<UInt8>, _ line: Range<Int>) throws(Failure) -> (String, String)
    {
        var colon = line.lowerBound
        while colon < line.upperBound && bytes[colon] != .colon {
            guard isTokenByte(bytes[colon]) else {
                throw .malformed("a part's header line has a name that is not a token")
            }
            colon += 1
        }
        guard colon < line.upperBound, colon > line.lowerBound else {
            throw .malformed("a part's header line has no name or no colon")
        }
        var start = colon + 1
        var end = line.upperBound
        while start < end && (bytes[start] == .space || bytes[start] == .tab) { start += 1 }
        while end > start && (bytes[end - 1] == .space || bytes[end - 1] == .tab) { end -= 1 }
        return (string(bytes, line.lowerBound..<colon), string(bytes, start..<end))
    }

    /// The bytes in `range` as UTF-8 text (invalid sequences become U+FFFD).
    private static func string(_ bytes: borrowing Span<UInt8>, _ range: Range<Int>) -> String {
        var copy: [UInt8] = []
        copy.reserveCapacity(range.count)
        for index in range { copy.append(bytes[index]) }
        return String(decoding: copy, as: UTF8.self)
    }

    /// Whether `pattern` is at `offset` of `bytes`.
    private static func matches(_ bytes: borrowing Span<UInt8>, _ pattern: [UInt8], at offset: Int) -> Bool {
        guard offset >= 0, pattern.count <= bytes.count - offset else { return false }
        for index in pattern.indices where bytes[offset + index] != pattern[index] { return false }
        return true
    }

    /// The first offset at or after `start` where `pattern` occurs.
    private static func find(_ bytes: borrowing Span<UInt8>, _ pattern: [UInt8], from start: Int) -> Int? {
        guard let first = pattern.first, bytes.count >= pattern.count else { return nil }
        var offset = max(0, start)
        let last = bytes.count - pattern.count
        while offset <= last {
            if bytes[offset] == first && matches(bytes, pattern, at: offset) { return offset }
            offset += 1
        }
        return nil
    }

    /// `!#$%&'*+-.^_`|~`, digits and letters.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: true
        default: false
        }
    }

    /// The `key=value` parameters after the first `;` of a header value, keys lowercased, quoted values unescaped.
    package static func parameters(of value: String) -> [String: String] {
        var result: [String: String] = [:]
        var characters = Substring(value)
        // Skip the disposition type.
        guard let firstSemicolon = characters.firstIndex(of: ";") else { return result }
        characters = characters[characters.index(after: firstSemicolon)...]
        while !characters.isEmpty {
            characters = characters.drop(while: { $0 == " " || $0 == "\t" })
            guard let equals = characters.firstIndex(of: "=") else { break }
            let key = characters[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            characters = characters[characters.index(after: equals)...].drop(while: { $0 == " " || $0 == "\t" })
            var parsed = ""
            if characters.first == "\"" {
                characters = characters.dropFirst()
                var escaped = false
                while let character = characters.first {
                    characters = characters.dropFirst()
                    if escaped {
                        parsed.append(character)
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        break
                    } else {
                        parsed.append(character)
                    }
                }
                characters = characters.drop(while: { $0 != ";" })
            } else {
                let end = characters.firstIndex(of: ";") ?? characters.endIndex
                parsed = characters[..<end].trimmingCharacters(in: .whitespaces)
                characters = characters[end...]
            }
            characters = characters.drop(while: { $0 == ";" })
            if !key.isEmpty && result[key] == nil { result[key] = parsed }
        }
        return result
    }
}

extension UInt8 {
    fileprivate static let cr: UInt8 = 0x0D
    fileprivate static let lf: UInt8 = 0x0A
    fileprivate static let hyphen: UInt8 = 0x2D
    fileprivate static let colon: UInt8 = 0x3A
    fileprivate static let space: UInt8 = 0x20
    fileprivate static let tab: UInt8 = 0x09
}

extension MultipartForm {
    /// The most parts (form fields) an upload to the service may have.
    package static let uploadMaxParts = 16
    /// The most header bytes (names and values) of one part of an upload.
    package static let uploadMaxHeaderBytes = 8 * 1024
}
