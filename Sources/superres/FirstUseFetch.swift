import ArgumentParser
import ModelStore
import Pipeline

/// The catalogue models `auto` runs are fetched into the model store the first time a command needs them.
enum FirstUseFetch {
    /// The entries of `names` that are not installed in the store.
    static func missing(_ names: [String]) -> [ModelCatalogue.Entry] {
        let store = ModelStore.directory()
        return names.compactMap { ModelCatalogue.entry(named: $0) }.filter {
            ModelStore.state(of: $0, in: store) != .installed
        }
    }

    /// Fetches `entries` with one line on stderr; when one cannot be fetched (offline), prints one line saying what to
    /// fetch and where to put it, and exits with status 1.
    static func fetch(_ entries: [ModelCatalogue.Entry]) async throws {
        guard !entries.isEmpty else { return }
        let directory = ModelStore.directory()
        let names = entries.map(\.name).joined(separator: ", ")
        let size = ModelStore.formattedSize(entries.map(\.size).reduce(0, +))
        printError("superres: fetching \(names) (\(size)) into \(directory), the first time they are needed")
        var failure: String?
        await ModelStore.pull(entries, into: directory) { entry, outcome in
            guard failure == nil, case .failure(let error) = outcome else { return }
            let firstLine = error.message.split(separator: "\n").first.map(String.init) ?? error.message
            let reason = firstLine + (error.underlying.map { " (\($0))" } ?? "")
            failure =
                "\(entry.name) is not installed and could not be fetched: \(reason); "
                + ModelStore.oneLineInstructions(for: entry, in: directory)
        }
        if let failure {
            printError("superres: \(failure)")
            throw ExitCode(1)
        }
    }
}
