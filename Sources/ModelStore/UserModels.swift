import Foundation
import Models

/// A model the user added to the store (`superres models add`): an ONNX file (and its external data files) copied
/// into `user/NAME/` with their SHA-256s, described by `model.json` beside them.
package struct UserModel: Codable, Sendable, Equatable {
    /// One file of the model and what it must hash to.
    package struct File: Codable, Sendable, Equatable {
        /// The file's name in the model's folder.
        package var name: String
        /// Its size in bytes.
        package var size: Int
        /// Its SHA-256, lowercase hex.
        package var sha256: String
    }

    /// The name it is asked for by (`--model NAME`).
    package var name: String
    /// The network file (first) and its external data files.
    package var files: [File]
    /// Output size ÷ input size, as the file computes it.
    package var scale: Int
    /// The file format ("onnx").
    package var format: String
    /// The licence the user stated (an SPDX identifier), if any.
    package var licence: String?
    /// What the user said the model is for, if anything.
    package var summary: String?
    /// Where the file was added from.
    package var addedFrom: String
    /// The input range and channel order the network takes (nil: RGB in [0, 1]).
    package var convention: ONNXConvention?

    /// The bytes of all its files.
    package var size: Int { files.reduce(0) { $0 + $1.size } }
}

/// The user's models in the store: add, list, find, verify, remove.
package enum UserModels {
    /// The folder that holds one folder per added model.
    package static func folder(in directory: String) -> String {
        (directory as NSString).appendingPathComponent("user")
    }

    /// The folder of the model `name`.
    static func folder(of name: String, in directory: String) -> String {
        (folder(in: directory) as NSString).appendingPathComponent(name)
    }

    /// The network file of `model`.
    package static func path(of model: UserModel, in directory: String) -> String {
        (folder(of: model.name, in: directory) as NSString).appendingPathComponent(model.files[0].name)
    }

    /// Every added model whose description reads, by name.
    package static func all(in directory: String) -> [UserModel] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder(in: directory))) ?? []
        return names.sorted().compactMap { named($0, in: directory) }
    }

    /// The added model `name`, if there is one.
    package static func named(_ name: String, in directory: String) -> UserModel? {
        guard isValidName(name) else { return nil }
        let manifest = (folder(of: name, in: directory) as NSString).appendingPathComponent("model.json")
        guard let data = FileManager.default.contents(atPath: manifest),
            let model = try? JSONDecoder().decode(UserModel.self, from: data), model.name == name, !model.files.isEmpty
        else { return nil }
        return model
    }

    /// Whether `name` can name a model: 1 to 64 of a–z, 0–9, `-`, `_`, `.`, starting with a letter or digit.
    package static func isValidName(_ name: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-_.")
        guard (1...64).contains(name.count), let first = name.first, first.isLetter || first.isNumber else {
            return false
        }
        return name.allSatisfy { allowed.contains($0) }
    }

    /// Copies the ONNX file at `path` (and the external data files it names) into the store as `name`, after loading
    /// it as superres would run it (so a file that cannot run is refused before anything is copied). A stated
    /// `scale` must be the file's. Replaces an added model of the same name; never a catalogue model.
    package static func add(
        file path: String, name: String, scale: Int?, licence: String?, summary: String?,
        convention: ONNXConvention = .standard, in directory: String
    ) throws -> UserModel {
        guard isValidName(name) else {
            throw ModelStoreError(
                .fileSystem, model: name,
                "not a usable model name: 1 to 64 lowercase letters, digits, '-', '_' or '.', starting with a letter "
                    + "or digit")
        }
        guard ModelCatalogue.entry(named: name) == nil else {
            throw ModelStoreError(.fileSystem, model: name, "the catalogue has a model of that name; choose another")
        }
        guard ONNXImporter.isONNXFile(path) else {
            throw ModelError(.unreadable, source: path, "superres adds ONNX files (.onnx); others are not supported")
        }
        let model = try ModelLoader.load(path: path, scale: scale, convention: convention)
        let source = (path as NSString).deletingLastPathComponent
        var names = [(path as NSString).lastPathComponent]
        names += try ONNXImporter.externalDataFiles(path: path)
        let staging = try StoreFiles.makeTemporaryFolder(for: name, in: folder(in: directory), model: name)
        do {
            var files: [UserModel.File] = []
            for (index, file) in names.enumerated() {
                let from = index == 0 ? path : (source as NSString).appendingPathComponent(file)
                let to = (staging as NSString).appendingPathComponent(file)
                try FileManager.default.createDirectory(
                    atPath: (to as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: from, toPath: to)
                let size = ModelStore.fileSize(to) ?? 0
                files.append(
                    UserModel.File(name: file, size: size, sha256: try Checksum.of(file: to, kind: .sha256).hexDigest))
            }
            let added = UserModel(
                name: name, files: files, scale: model.scale, format: "onnx", licence: licence, summary: summary,
                addedFrom: URL(fileURLWithPath: path).standardizedFileURL.path,
                convention: convention == .standard ? nil : convention)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(added).write(
                to: URL(fileURLWithPath: (staging as NSString).appendingPathComponent("model.json")))
            try StoreFiles.replaceFolder(folder(of: name, in: directory), with: staging, model: name)
            return added
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            if error is ModelStoreError { throw error }
            throw ModelStoreError(.fileSystem, model: name, "cannot copy the model into the store", underlying: error)
        }
    }

    /// Re-hashes the files of `model`: nil when they are intact, else what is wrong.
    package static func problem(with model: UserModel, in directory: String) -> String? {
        for file in model.files {
            let path = (folder(of: model.name, in: directory) as NSString).appendingPathComponent(file.name)
            guard let size = ModelStore.fileSize(path) else { return "\(file.name) is missing" }
            guard size == file.size else { return "\(file.name) has \(size) bytes, expected \(file.size)" }
            guard let checksum = try? Checksum.of(file: path, kind: .sha256) else { return "cannot read \(file.name)" }
            guard checksum.hexDigest == file.sha256 else {
                return "\(file.name) has SHA-256 \(checksum.hexDigest), expected \(file.sha256)"
            }
        }
        return nil
    }

    /// Deletes the added model `name`; false when there is none.
    package static func remove(_ name: String, in directory: String) throws -> Bool {
        guard named(name, in: directory) != nil else { return false }
        let aside = (folder(in: directory) as NSString).appendingPathComponent(
            "\(StoreFiles.temporaryPrefix)\(UUID().uuidString)-removed")
        try StoreFiles.rename(folder(of: name, in: directory), to: aside, model: name)
        try? FileManager.default.removeItem(atPath: aside)
        return true
    }
}
