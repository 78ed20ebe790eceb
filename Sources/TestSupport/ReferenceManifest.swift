import Foundation

/// One OpenCV reference output in `shared/reference/<model>/manifest.json`.
package struct ReferenceCase: Decodable, Sendable, CustomStringConvertible {
    /// LR input, relative to `shared/reference`.
    package let input: String
    /// OpenCV's output PNG, relative to `shared/reference`.
    package let output: String
    /// Model file, relative to `shared`.
    package let model: String
    /// OpenCV's name for the model family, e.g. "espcn" or "fsrcnn".
    package let algo: String
    /// The model's upscaling factor.
    package let scale: Int
    /// Raw network output (EDSR tiny fixtures only), relative to `shared/reference`.
    package let rawOutput: String?
    /// Shape of the raw network output, NCHW (EDSR tiny fixtures only).
    package let rawShapeNCHW: [Int]?

    enum CodingKeys: String, CodingKey {
        case input, output, model, algo, scale
        case rawOutput = "raw_output"
        case rawShapeNCHW = "raw_shape"
    }

    /// The output path, which names the case in test listings.
    package var description: String { output }
}

/// Reads every reference manifest.
package enum ReferenceManifest {
    private struct File: Decodable {
        let cases: [ReferenceCase]
    }

    /// All cases of all models, sorted by output path; empty when the shared folder is absent.
    package static func allCases() -> [ReferenceCase] {
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
