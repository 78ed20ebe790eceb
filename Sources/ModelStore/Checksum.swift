import Crypto
import Foundation
import Models

/// What a catalogue file's content must hash to.
package enum Checksum: Sendable, Hashable, CustomStringConvertible {
    /// The SHA-256 of the file, lowercase hex.
    case sha256(String)
    /// The file's git blob id: the SHA-1 of `"blob <size>\0"` followed by the bytes, lowercase hex. Lets a file be
    /// checked against the id its repository records for it when no other checksum was published.
    case gitBlobSHA1(String)

    /// The two ways a file is hashed.
    package enum Kind: String, Sendable, CaseIterable {
        case sha256
        case gitBlobSHA1 = "git-blob-sha1"
    }

    /// Which hash this is.
    package var kind: Kind {
        switch self {
        case .sha256: .sha256
        case .gitBlobSHA1: .gitBlobSHA1
        }
    }

    /// The expected digest, lowercase hex.
    package var hexDigest: String {
        switch self {
        case .sha256(let hex), .gitBlobSHA1(let hex): hex.lowercased()
        }
    }

    /// `sha256:…` or `git-blob-sha1:…`.
    package var description: String { "\(kind.rawValue):\(hexDigest)" }

    /// The checksum of `bytes`.
    package static func of<Bytes: Collection>(_ bytes: Bytes, kind: Kind) -> Checksum where Bytes.Element == UInt8 {
        var hasher = ChecksumHasher(kind: kind, size: bytes.count)
        hasher.update(Array(bytes))
        return hasher.finalize()
    }

    /// The checksum of the file at `path`, read in 1 MiB pieces.
    package static func of(file path: String, kind: Kind) throws(ModelStoreError) -> Checksum {
        let size: Int
        let handle: FileHandle
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            size = (attributes[.size] as? NSNumber)?.intValue ?? 0
            handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        } catch {
            throw ModelStoreError(.fileSystem, model: path, "cannot read the file", underlying: error)
        }
        defer { try? handle.close() }
        var hasher = ChecksumHasher(kind: kind, size: size)
        do {
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(chunk)
            }
        } catch {
            throw ModelStoreError(.fileSystem, model: path, "cannot read the file", underlying: error)
        }
        return hasher.finalize()
    }
}

/// Hashes a file as it streams past (while downloading or reading), in the way a `Checksum.Kind` asks.
package struct ChecksumHasher: Sendable {
    private enum State {
        case sha256(SHA256)
        case sha1(Insecure.SHA1)
    }

    private var state: State
    /// Which hash is computed.
    package let kind: Checksum.Kind

    /// A hasher for a file of `size` bytes (a git blob id hashes the size first, so it must be known up front).
    package init(kind: Checksum.Kind, size: Int) {
        self.kind = kind
        switch kind {
        case .sha256:
            state = .sha256(SHA256())
        case .gitBlobSHA1:
            var sha1 = Insecure.SHA1()
            sha1.update(data: Array("blob \(size)\0".utf8))
            state = .sha1(sha1)
        }
    }

    /// Feeds more bytes.
    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch state {
        case .sha256(var hasher):
            hasher.update(bufferPointer: bytes)
            state = .sha256(hasher)
        case .sha1(var hasher):
            hasher.update(bufferPointer: bytes)
            state = .sha1(hasher)
        }
    }

    /// Feeds more bytes.
    package mutating func update<Bytes: ContiguousBytes>(_ bytes: Bytes) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The checksum of everything fed.
    package func finalize() -> Checksum {
        switch state {
        case .sha256(let hasher): .sha256(hexString(hasher.finalize()))
        case .sha1(let hasher): .gitBlobSHA1(hexString(hasher.finalize()))
        }
    }
}

/// Lowercase hex of a digest's bytes.
func hexString<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.underestimatedCount * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
}
