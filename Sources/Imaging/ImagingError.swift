/// Why an image could not be read, decoded, encoded or written, and which file (or upload) it was.
package struct ImagingError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure, for callers that map errors to exit codes or HTTP statuses.
    package enum Code: String, Sendable {
        /// The file could not be opened or read (missing, a directory, no permission, I/O error).
        case unreadable
        /// Not a PNG, JPEG, WebP or TIFF, or a variant of one that superres does not decode (12-bit JPEG, animated WebP).
        case unsupportedFormat
        /// The data breaks the format's rules (bad CRC, invalid Huffman code, broken bitstream).
        case corrupt
        /// The data ends before the image does.
        case truncated
        /// The image has more pixels than the decode limit allows, or more than a format can hold.
        case tooLarge
        /// The header declares zero width or height.
        case emptyImage
        /// An encoder refused the image or the settings (e.g. a quality outside 1...100).
        case encodeFailed
        /// The output file could not be written, synced or moved into place.
        case writeFailed
        /// A `CodecCancellation` stopped the decode or encode (a request, or its deadline).
        case cancelled
        /// The embedded colour profile cannot be used for the colour conversion asked for (`--colour srgb`).
        case colourProfile
    }

    /// The kind of failure.
    package let code: Code
    /// The file path, or a name such as "upload" for bytes that came from elsewhere.
    package let source: String
    /// A human-readable reason, e.g. "truncated PNG data: the data ends early".
    package let message: String

    /// An error of kind `code` about `source`.
    package init(_ code: Code, source: String, message: String) {
        self.code = code
        self.source = source
        self.message = message
    }

    /// "<source>: <message>".
    package var description: String { "\(source): \(message)" }
}
