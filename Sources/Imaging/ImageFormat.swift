/// An image file format that superres reads and writes.
package enum ImageFormat: String, Sendable, CaseIterable {
    /// Portable Network Graphics: lossless, 1 to 16 bits, optional alpha.
    case png
    /// JPEG (JFIF or EXIF): lossy, 8-bit grey or colour, no alpha.
    case jpeg
    /// WebP: lossy or lossless, 8-bit colour with optional alpha.
    case webp
    /// TIFF: the format of scans; 1 to 16 bits, grey or colour, optional alpha, several compressions and pages.
    case tiff

    /// The format for a file extension: png, jpg, jpeg, webp, tif or tiff, in any case, with or without a leading
    /// dot.
    package init?(fileExtension: String) {
        var name = fileExtension.lowercased()
        if name.hasPrefix(".") { name.removeFirst() }
        switch name {
        case "png": self = .png
        case "jpg", "jpeg": self = .jpeg
        case "webp": self = .webp
        case "tif", "tiff": self = .tiff
        default: return nil
        }
    }

    /// The usual file extension, without the dot: png, jpg, webp or tif.
    package var fileExtension: String {
        switch self {
        case .png: "png"
        case .jpeg: "jpg"
        case .webp: "webp"
        case .tiff: "tif"
        }
    }

    /// The media type, e.g. for an HTTP Content-Type: image/png, image/jpeg or image/webp.
    package var mediaType: String { "image/\(rawValue)" }

    /// The format whose signature (magic number) starts `bytes`; nil when none does or `bytes` is too short to tell.
    package init?(sniffing bytes: [UInt8]) {
        guard let format = Self.allCases.first(where: { $0.matchesSignature(bytes) }) else { return nil }
        self = format
    }

    /// The name used in messages: PNG, JPEG or WebP.
    package var displayName: String {
        switch self {
        case .png: "PNG"
        case .jpeg: "JPEG"
        case .webp: "WebP"
        case .tiff: "TIFF"
        }
    }

    /// The leading bytes each file of this format starts with (one of them); nil marks a byte that varies (WebP's
    /// RIFF size).
    var signatures: [[UInt8?]] {
        switch self {
        case .png: [[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]]
        case .jpeg: [[0xFF, 0xD8, 0xFF]]
        // "RIFF", the little-endian size of the rest, "WEBP"
        case .webp: [[0x52, 0x49, 0x46, 0x46, nil, nil, nil, nil, 0x57, 0x45, 0x42, 0x50]]
        // "II" and 42 little-endian, "MM" and 42 big-endian
        case .tiff: [[0x49, 0x49, 0x2A, 0x00], [0x4D, 0x4D, 0x00, 0x2A]]
        }
    }

    /// Whether `bytes` starts with a whole signature.
    func matchesSignature(_ bytes: [UInt8]) -> Bool {
        signatures.contains { bytes.count >= $0.count && Self.agrees(bytes, with: $0) }
    }

    /// Whether `bytes` agrees with a signature as far as both go: a file cut inside its signature still agrees.
    func agreesWithSignature(_ bytes: [UInt8]) -> Bool {
        signatures.contains { Self.agrees(bytes, with: $0) }
    }

    private static func agrees(_ bytes: [UInt8], with signature: [UInt8?]) -> Bool {
        zip(signature, bytes).allSatisfy { expected, actual in expected == nil || expected == actual }
    }
}
