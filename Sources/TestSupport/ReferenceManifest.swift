import Foundation

/// One OpenCV reference output in `shared/reference/<model>/manifest.json`.
public struct ReferenceCase: Decodable, Sendable, CustomStringConvertible {
    /// LR input, relative to `shared/reference`.
    public let input: String
    /// OpenCV's output PNG, relative to `shared/reference`.
    public let output: String
    /// Model file, relative to `shared`.
    public let model: String
    /// OpenCV's name for the model family, e.g. "espcn" or "fsrcnn".
    public let algo: String
    /// The model's upscaling factor.
    public let scale: Int
    /// Raw network output (EDSR tiny fixtures only), relative to `shared/reference`.
    public let rawOutput: String?
    /// Shape of the raw network output, NCHW (EDSR tiny fixtures only).
    public let rawShapeNCHW: [Int]?

    enum CodingKeys: String, CodingKey {
        case input, output, model, algo, scale
        case rawOutput = "raw_output"
        case rawShapeNCHW = "raw_shape"
    }

    /// The output path, which names the case in test listings.
    public var description: String { output }
}

/// Reads every reference manifest.
public enum ReferenceManifest {
    private struct File: Decodable {
        let cases: [ReferenceCase]
    }

    /// All cases of all models, sorted by output path; empty when the shared folder is absent.
    public static func allCases() -> [ReferenceCase] {
        guard SharedData.isAvailable else { return [] }
        let folder = SharedData.root.appendingPathComponent("reference")
        let models = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var cases: [ReferenceCase] = []
        for model in models.sorted() {
            let url = folder.appendingPathComponent(model).appendingPathComponent("manifest.json")
            guard let data = try? Data(contentsOf: url), let file = try? JSONDecoder().decode(File.self, from: data)
            else { continue }
            cases += file.cases
        }
        return cases
    }
}
