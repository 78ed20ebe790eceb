import Foundation
import Pipeline

/// One image's scores under one method.
package struct ImageResult: Codable, Sendable, Equatable {
    /// The image's file name.
    package var image: String
    /// PSNR in dB on the Y channel, border `scale` removed.
    package var psnr: Double
    /// SSIM on the Y channel, border `scale` removed.
    package var ssim: Double
    /// Wall-clock seconds of the upscale alone (network and its pre- and post-processing, on the CPU).
    package var seconds: Double
    /// CPU seconds of the process over the same interval, all threads together.
    package var cpuSeconds: Double
    /// Size of the output (the cropped HR image).
    package var width: Int
    /// Height of the output in pixels.
    package var height: Int
    /// The degradation estimated from the LR input (the same for every method of an image).
    package var estimate: DegradationEstimate?
    /// The model (and noise level) a per-image method such as `auto` chose; nil for fixed models.
    package var choice: String?
}

/// One data set under one method: mean scores and the images they came from.
package struct ResultRow: Codable, Sendable, Equatable {
    /// The data set's folder name, e.g. "Set5".
    package var dataset: String
    /// "bicubic", or the model's name.
    package var model: String
    /// The upscaling factor of the row.
    package var scale: Int
    /// The LR degradation (`jpeg:40`, `noise:5+jpeg:95`); nil for the standard clean LR.
    package var degradation: String?
    /// Mean PSNR over the images, dB.
    package var psnr: Double
    /// Mean SSIM over the images.
    package var ssim: Double
    /// Mean wall-clock seconds per image.
    package var seconds: Double
    /// Mean CPU seconds per image (all threads).
    package var cpuSeconds: Double
    /// Total wall-clock seconds ÷ total output megapixels.
    package var secondsPerMegapixel: Double
    /// The per-image results the means are taken over.
    package var images: [ImageResult]

    /// The row summarising `images`.
    package init(dataset: String, model: String, scale: Int, images: [ImageResult]) {
        precondition(!images.isEmpty, "a row needs at least one image")
        let count = Double(images.count)
        self.dataset = dataset
        self.model = model
        self.scale = scale
        self.psnr = images.map(\.psnr).reduce(0, +) / count
        self.ssim = images.map(\.ssim).reduce(0, +) / count
        self.seconds = images.map(\.seconds).reduce(0, +) / count
        self.cpuSeconds = images.map(\.cpuSeconds).reduce(0, +) / count
        let megapixels = images.map { Double($0.width * $0.height) / 1e6 }.reduce(0, +)
        self.secondsPerMegapixel = images.map(\.seconds).reduce(0, +) / megapixels
        self.images = images
    }
}

/// The results of `superres eval`: one row per data set × method.
package struct EvaluationReport: Codable, Sendable, Equatable {
    /// How the LR inputs were made.
    package var lrKernel: LowResolutionKernel
    /// One row per data set × method, in the order they were run.
    package var rows: [ResultRow]

    /// A report of `rows`, whose LR inputs were made with `lrKernel`.
    package init(lrKernel: LowResolutionKernel = .matlab, rows: [ResultRow] = []) {
        self.lrKernel = lrKernel
        self.rows = rows
    }

    /// Data set names in order of first appearance.
    package var datasets: [String] { ordered(rows.map(\.dataset)) }
    /// Method names in order of first appearance (bicubic first when present).
    package var models: [String] { ordered(rows.map(\.model)) }

    /// The row for a data set and method.
    package func row(dataset: String, model: String) -> ResultRow? {
        rows.first { $0.dataset == dataset && $0.model == model }
    }

    /// The report as pretty-printed JSON (`{"lrKernel": ..., "rows": [...]}`); an infinite PSNR (identical
    /// images) is written as the string "inf".
    package func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf",
            negativeInfinity: "-inf",
            nan: "nan"
        )
        return try encoder.encode(self)
    }

    /// Reads a report written by `jsonData()`.
    package static func decode(_ data: Data) throws -> EvaluationReport {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf",
            negativeInfinity: "-inf",
            nan: "nan"
        )
        return try decoder.decode(EvaluationReport.self, from: data)
    }

    private func ordered(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}
