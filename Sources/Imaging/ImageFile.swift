// Reading and writing image files. Writes are atomic: readers of the path see the old file or the whole new one.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads image files and writes them atomically.
package enum ImageFile {
    /// Reads and decodes the PNG, JPEG, WebP or TIFF file at `path` (format from its contents, not its name).
    package static func read(_ path: String, limits: DecodeLimits = DecodeLimits()) throws(ImagingError) -> PixelImage {
        try ImageCodec.decode(readBytes(path), source: path, limits: limits)
    }

    /// Encodes `image` and writes it to `path` atomically.
    ///
    /// `format` nil takes the format from the path's extension (png, jpg, jpeg, webp) and fails if it is unknown.
    /// `quality`, `pngCompression`, `jpegChroma` and `metadata` as in `ImageCodec.encode`.
    package static func write(
        _ image: PixelImage,
        to path: String,
        format: ImageFormat? = nil,
        quality: Int = 95,
        pngCompression: PNGCompression = .default,
        jpegChroma: JPEGChroma = .subsampled,
        tiffCompression: TIFFCompression = .deflate,
        metadata: ImageMetadata? = nil
    ) throws(ImagingError) {
        guard let format = format ?? ImageFormat(fileExtension: fileExtension(of: path)) else {
            throw ImagingError(
                .unsupportedFormat,
                source: path,
                message: "cannot tell the format from the file name; use .png, .jpg, .jpeg, .webp, .tif or .tiff"
            )
        }
        let bytes: [UInt8]
        do {
            bytes = try ImageCodec.encode(
                image, as: format, quality: quality, pngCompression: pngCompression, jpegChroma: jpegChroma,
                tiffCompression: tiffCompression, metadata: metadata)
        } catch {
            throw ImagingError(error.code, source: path, message: error.message)
        }
        try writeAtomically(bytes, to: path)
    }

    /// Writes atomically: a temporary file in the same folder, fsync, then rename; nothing is left behind on failure.
    package static func writeAtomically(_ bytes: [UInt8], to path: String) throws(ImagingError) {
        let (temporary, descriptor) = try createTemporary(for: path)
        let failure = writeAll(bytes, to: descriptor).map { "cannot write \(temporary): \($0)" }
        try commit(temporary, descriptor: descriptor, to: path, failure: failure)
    }

    /// A new, empty temporary file beside `path` (a fresh random name, created exclusively) and its descriptor.
    static func createTemporary(for path: String) throws(ImagingError) -> (path: String, descriptor: Int32) {
        let (folder, name) = split(path)
        guard !name.isEmpty else {
            throw ImagingError(.writeFailed, source: path, message: "the path names a folder, not a file")
        }
        var temporary = ""
        var descriptor: Int32 = -1
        // A fresh random name; O_EXCL makes a collision fail rather than share a file.
        for _ in 0..<8 {
            let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
            temporary = (folder.map { $0 + "/" } ?? "") + ".\(name).tmp-\(suffix)"
            descriptor = open(temporary, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if descriptor >= 0 || errno != EEXIST { break }
        }
        guard descriptor >= 0 else {
            // The folder, not the temporary name, is what the user can act on.
            let place = folder ?? "the current folder"
            throw ImagingError(.writeFailed, source: path, message: "cannot create a file in \(place): \(lastError())")
        }
        return (temporary, descriptor)
    }

    /// Ends a write to `temporary` (open as `descriptor`): unless `failure` says the writing failed, fsync, close
    /// and rename it to `path`; on any failure the temporary file is closed and removed and the error thrown.
    static func commit(
        _ temporary: String, descriptor: Int32, to path: String, failure: String?
    ) throws(ImagingError) {
        var failure = failure
        if failure == nil, fsync(descriptor) != 0 { failure = "cannot sync \(temporary): \(lastError())" }
        if close(descriptor) != 0, failure == nil { failure = "cannot close \(temporary): \(lastError())" }
        if failure == nil, rename(temporary, path) != 0 {
            failure = "cannot rename \(temporary) to \(path): \(lastError())"
        }
        if let failure {
            unlink(temporary)
            throw ImagingError(.writeFailed, source: path, message: failure)
        }
        syncFolder(split(path).folder ?? ".")
    }

    /// Closes and removes a temporary file that will not be committed.
    static func discard(_ temporary: String, descriptor: Int32) {
        close(descriptor)
        unlink(temporary)
    }
}

// MARK: - POSIX helpers

extension ImageFile {
    /// The whole contents of the regular file at `path` (a typed error when it cannot be opened or read).
    package static func readBytes(_ path: String) throws(ImagingError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ImagingError(.unreadable, source: path, message: "cannot open the file: \(lastError())")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw ImagingError(.unreadable, source: path, message: "cannot stat the file: \(lastError())")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw ImagingError(.unreadable, source: path, message: "not a regular file")
        }
        let expected = Int(status.st_size)
        var bytes = [UInt8](repeating: 0, count: expected)
        var filled = 0
        var failure: String?
        bytes.withUnsafeMutableBytes { buffer in
            while filled < expected {
                let count = systemRead(descriptor, buffer.baseAddress! + filled, expected - filled)
                if count > 0 {
                    filled += count
                } else if count == 0 {
                    break  // the file shrank while we read it
                } else if errno != EINTR {
                    failure = lastError()
                    break
                }
            }
        }
        if let failure { throw ImagingError(.unreadable, source: path, message: "cannot read the file: \(failure)") }
        if filled < expected { bytes.removeSubrange(filled...) }
        return bytes
    }

    /// Writes all of `bytes`, retrying short writes and interruptions; the error text on failure.
    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> String? {
        bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let count = systemWrite(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if count >= 0 {
                    written += count
                } else if errno != EINTR {
                    return lastError()
                }
            }
            return nil
        }
    }

    /// Makes a rename in `folder` durable; best effort, as some file systems refuse to sync folders.
    /// Flushes `folder`'s entries (a created, renamed or removed name) to disk: fsync on the directory.
    package static func syncFolder(_ folder: String) {
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    /// The folder part (nil for a bare name) and the file name of `path`.
    private static func split(_ path: String) -> (folder: String?, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (nil, path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }

    /// The text after the last dot of the file name, or "".
    static func fileExtension(of path: String) -> String {
        let name = split(path).name
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return String(name[name.index(after: dot)...])
    }

    /// `strerror(errno)`.
    private static func lastError() -> String { String(cString: strerror(errno)) }
}

// `read` and `write` are shadowed inside ImageFile by its own methods.
#if canImport(Glibc)
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    Glibc.read(descriptor, buffer, count)
}

private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    Glibc.write(descriptor, buffer, count)
}
#elseif canImport(Darwin)
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    Darwin.read(descriptor, buffer, count)
}

private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    Darwin.write(descriptor, buffer, count)
}
#endif
