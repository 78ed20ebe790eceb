import Foundation
import Models

/// The folder of installed catalogue models, and how `--model NAME` becomes a file.
///
/// Layout: a single-file model is stored under its upstream file name (`<store>/ESPCN_x2.pb`), so a file fetched
/// by hand only has to be dropped in the folder; an ncnn pair gets a folder named after the entry
/// (`<store>/srmdnf-x3/srmdnf_x3.param` and `.bin`), because different entries' members share file names.
package enum ModelStore {
    /// The environment variable that names the store folder.
    package static let directoryVariable = "SUPERRES_MODELS"

    /// The store folder: `$SUPERRES_MODELS`, else `$XDG_DATA_HOME/superres/models`, else
    /// `~/.local/share/superres/models`.
    package static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let chosen = environment[directoryVariable], !chosen.isEmpty { return chosen }
        // The XDG base-directory spec says a relative XDG_DATA_HOME is invalid and must be ignored.
        if let data = environment["XDG_DATA_HOME"], data.hasPrefix("/") {
            return (data as NSString).appendingPathComponent("superres/models")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".local/share/superres/models")
    }

    /// The folder that holds `entry`'s files.
    package static func folder(of entry: ModelCatalogue.Entry, in directory: String) -> String {
        switch entry.format {
        case .tensorFlowGraph: directory
        case .ncnn: (directory as NSString).appendingPathComponent(entry.name)
        }
    }

    /// Where `entry`'s files are (or would be) installed, in the entry's order.
    package static func paths(of entry: ModelCatalogue.Entry, in directory: String) -> [String] {
        let folder = folder(of: entry, in: directory)
        return entry.files.map { (folder as NSString).appendingPathComponent($0.name) }
    }

    /// The file `locate` returns for `entry`: the graph, or the ncnn `.param` (its `.bin` lies beside it).
    package static func path(of entry: ModelCatalogue.Entry, in directory: String) -> String {
        paths(of: entry, in: directory)[0]
    }

    /// What a quick look (existence and sizes, no hashing) says about an entry in the store.
    package enum State: Sendable, Equatable {
        /// Every file is there with the catalogue's size.
        case installed
        /// No file of the entry is there.
        case missing
        /// Some files are there but not all, or not at the right size.
        case damaged(String)
    }

    /// Checks which of `entry`'s files exist and have the right size.
    package static func state(of entry: ModelCatalogue.Entry, in directory: String) -> State {
        var problems: [String] = []
        var present = 0
        for (file, path) in zip(entry.files, paths(of: entry, in: directory)) {
            guard let size = fileSize(path) else {
                problems.append("\(file.name) is missing")
                continue
            }
            present += 1
            if size != file.size { problems.append("\(file.name) has \(size) bytes, not \(file.size)") }
        }
        if present == 0 { return .missing }
        return problems.isEmpty ? .installed : .damaged(problems.joined(separator: "; "))
    }

    /// The result of re-hashing an entry's files.
    package enum Verification: Sendable, Equatable {
        /// Every file has the catalogue's size and checksum.
        case ok
        /// None of its files is in the store.
        case missing
        /// What is wrong with which file.
        case corrupt(String)
    }

    /// Re-hashes `entry`'s installed files against the catalogue.
    package static func verify(_ entry: ModelCatalogue.Entry, in directory: String) -> Verification {
        switch state(of: entry, in: directory) {
        case .missing: return .missing
        case .damaged(let why): return .corrupt(why)
        case .installed: break
        }
        for (file, path) in zip(entry.files, paths(of: entry, in: directory)) {
            let actual: Checksum
            do {
                actual = try Checksum.of(file: path, kind: file.checksum.kind)
            } catch {
                return .corrupt("\(file.name): \(error.message)")
            }
            if actual != file.checksum {
                return .corrupt(
                    "\(file.name): \(actual.kind.rawValue) is \(actual.hexDigest), expected \(file.checksum.hexDigest)"
                )
            }
        }
        return .ok
    }

    /// Resolves `--model`: an existing file (or folder) is returned as given; a catalogue name gives its installed
    /// file in the store (`directory()`); anything else throws, saying how to get the model.
    package static func locate(_ nameOrPath: String) throws(ModelError) -> String {
        try locate(nameOrPath, in: directory())
    }

    /// `locate(_:)` with an explicit store folder.
    package static func locate(_ nameOrPath: String, in directory: String) throws(ModelError) -> String {
        if FileManager.default.fileExists(atPath: nameOrPath) { return nameOrPath }
        if ModelCatalogue.entry(named: nameOrPath) == nil, let added = UserModels.named(nameOrPath, in: directory) {
            let path = UserModels.path(of: added, in: directory)
            guard ModelStore.fileSize(path) == added.files[0].size else {
                throw ModelError(
                    .unreadable, source: added.name,
                    "the added model's file \(path) is missing or changed: add it again with `superres models add`")
            }
            return path
        }
        guard let entry = ModelCatalogue.entry(named: nameOrPath) else {
            let looksLikePath = nameOrPath.contains("/") || nameOrPath.contains(".")
            throw ModelError(
                .unreadable,
                source: nameOrPath,
                looksLikePath
                    ? "no such file"
                    : "no such file, and no model of that name (`superres models list` shows the names)"
            )
        }
        let path = path(of: entry, in: directory)
        switch state(of: entry, in: directory) {
        case .installed:
            return path
        case .missing:
            throw ModelError(
                .unreadable,
                source: entry.name,
                "not installed in \(directory): run `superres models pull \(entry.name)` to download it "
                    + "(\(formattedSize(entry.size)))"
            )
        case .damaged(let why):
            throw ModelError(
                .unreadable,
                source: entry.name,
                "the installed copy in \(directory) is damaged (\(why)): run `superres models pull \(entry.name)` "
                    + "to download it again"
            )
        }
    }

    /// A byte count for people: `86.4 kB`, `38.5 MB` (powers of 1000).
    package static func formattedSize(_ bytes: Int) -> String {
        let units = ["bytes", "kB", "MB", "GB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        if unit == 0 { return "\(bytes) bytes" }
        return String(format: value >= 100 ? "%.0f" : "%.1f", value) + " " + units[unit]
    }

    /// The size of the regular file at `path`, or nil if there is none.
    static func fileSize(_ path: String) -> Int? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        else { return nil }
        return (attributes[.size] as? NSNumber)?.intValue
    }
}
