import Foundation
import ModelStore
import TestSupport
import Testing

@Suite struct CatalogueChecksumTests {
    static let sha256Vectors: [(String, String)] = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                + "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
    ]

    /// Git blob ids (SHA-1 of `blob <size>\0` and the bytes), as `git hash-object` prints them.
    static let gitBlobVectors: [(String, String)] = [
        ("", "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"),
        ("abc", "f2ba8f84ab5c1bce84a7b441cb1959cfc7093b7f"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "199f24ed041a6af4d09fa175444712eb1849af8d"),
    ]

    @Test func sha256MatchesFIPSVectors() {
        for (message, digest) in Self.sha256Vectors {
            #expect(Checksum.of(Array(message.utf8), kind: .sha256) == .sha256(digest), "\(message)")
        }
    }

    @Test func gitBlobIdsOfKnownMessages() {
        for (message, digest) in Self.gitBlobVectors {
            #expect(Checksum.of(Array(message.utf8), kind: .gitBlobSHA1) == .gitBlobSHA1(digest), "\(message)")
        }
    }

    @Test func oneMillionAs() {
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(
            Checksum.of(million, kind: .sha256)
                == .sha256("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        )
        #expect(
            Checksum.of(million, kind: .gitBlobSHA1) == .gitBlobSHA1("de1fbf0c2f34f67f01f355f31ed0cf7319643c5e")
        )
    }

    /// Feeding the bytes in random pieces, across block boundaries, gives the digest of feeding them at once.
    @Test(arguments: [1, 2, 3]) func streamingInPiecesMatchesOneShot(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let bytes = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for kind in Checksum.Kind.allCases {
            var hasher = ChecksumHasher(kind: kind, size: bytes.count)
            var offset = 0
            while offset < bytes.count {
                let length = min(Int.random(in: 0...150, using: &generator), bytes.count - offset)
                hasher.update(Array(bytes[offset..<(offset + length)]))
                offset += length
            }
            #expect(hasher.finalize() == Checksum.of(bytes, kind: kind), "\(kind)")
            // Every padding case: lengths around the 55/56/64-byte boundaries.
            for length in 54...66 {
                let prefix = Array(bytes.prefix(length))
                var split = ChecksumHasher(kind: kind, size: length)
                split.update(Array(prefix.prefix(length / 2)))
                split.update(Array(prefix.dropFirst(length / 2)))
                #expect(split.finalize() == Checksum.of(prefix, kind: kind), "\(kind), length \(length)")
            }
        }
    }

    /// Git blob ids as `git hash-object` prints them.
    @Test func gitBlobIdOfSyntheticFiles() throws {
        let folder = TemporaryFolder()
        let cases: [(Data, String)] = [
            (Data(), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"),
            (Data("hello world\n".utf8), "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"),
            (Data("what is up, doc?".utf8), "bd9dbf5aae1a3862dd1526723246b20206e5fc37"),
        ]
        for (index, (data, blob)) in cases.enumerated() {
            let path = folder.appending("file\(index)")
            try data.write(to: URL(fileURLWithPath: path))
            #expect(try Checksum.of(file: path, kind: .gitBlobSHA1) == .gitBlobSHA1(blob))
            #expect(Checksum.of(Array(data), kind: .gitBlobSHA1) == .gitBlobSHA1(blob))
        }
    }

    /// A file larger than one read (1 MiB) and not a multiple of the block size, hashed from disk and from memory.
    @Test func fileHashingReadsInPieces() throws {
        let folder = TemporaryFolder()
        var generator = SeededGenerator(seed: 7)
        let bytes = (0..<(1 << 20) + 12345).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let path = folder.appending("big.bin")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        for kind in Checksum.Kind.allCases {
            #expect(try Checksum.of(file: path, kind: kind) == Checksum.of(bytes, kind: kind))
        }
    }

    @Test(
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/git"), "/usr/bin/git is not installed")
    )
    func gitBlobIdAgreesWithGitWhenInstalled() throws {
        let folder = TemporaryFolder()
        let path = folder.appending("sample")
        try Data((0..<300).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = ["hash-object", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let blob = output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try Checksum.of(file: path, kind: .gitBlobSHA1) == .gitBlobSHA1(blob))
    }

    @Test func descriptionNamesTheKind() {
        #expect(Checksum.sha256("AB").description == "sha256:ab")
        #expect(Checksum.gitBlobSHA1("cd").description == "git-blob-sha1:cd")
    }
}
