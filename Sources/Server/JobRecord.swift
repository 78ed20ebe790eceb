import Foundation
import Pipeline

/// Where a job is in its life.
package enum JobState: String, Codable, Sendable, CaseIterable {
    /// Waiting for a worker.
    case queued
    /// Being enlarged.
    case running
    /// Finished; the result can be downloaded.
    case succeeded
    /// Stopped by an error (including a restart or shutdown that cut it off).
    case failed
    /// Stopped by `DELETE /api/v1/jobs/{id}`.
    case cancelled

    /// Whether the job will not change any more.
    package var isFinished: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// An image's format, size and byte count.
package struct ImageSummary: Codable, Sendable, Equatable {
    /// png, jpeg or webp.
    package var format: String
    /// Width in pixels.
    package var width: Int
    /// Height in pixels.
    package var height: Int
    /// Size of the file in bytes (the upload, or the encoded result).
    package var bytes: Int
    /// The uploaded file's name (inputs only).
    package var filename: String?
}

/// A job as stored in `jobs/<id>/job.json`: enough to answer for it and to resume after a restart.
package struct JobRecord: Codable, Sendable, Equatable {
    /// The job's id: a lowercase UUID, also the name of its folder under `jobs/`.
    package var id: String
    /// Where the job is in its life: queued, running, succeeded, failed or cancelled.
    package var state: JobState
    /// 0...1, from finished tiles.
    package var progress: Double
    /// Tiles enlarged so far (set to `tilesTotal` on success); for a chain of two networks (×8), thousandths of each
    /// network's equal share.
    package var tilesDone: Int
    /// Tiles the image is split into; 0 until processing reports progress.
    package var tilesTotal: Int
    /// The model's name.
    package var model: String
    /// The enlargement asked for (`scale`), else the model's own (output size ÷ input size).
    package var scale: Double
    /// The result's width asked for (`width`); absent when none was.
    package var width: Int?
    /// The result's height asked for (`height`); absent when none was.
    package var height: Int?
    /// The result's format: png, jpeg, webp or tiff.
    package var format: String
    /// The encoding quality 1...100 for JPEG and WebP results (100 is lossless WebP); default 95.
    package var quality: Int
    /// The PNG compression level 0...9 of a PNG result.
    package var pngCompression: Int?
    /// The compression of a TIFF result (none, lzw, deflate, jpeg).
    package var tiffCompression: String?
    /// The `dpi` the job was submitted with (scale or a number); absent for keep.
    package var dpi: String?
    /// Format, size, byte count and file name of the uploaded image.
    package var input: ImageSummary
    /// Format, size and byte count of the result; nil unless the job succeeded.
    package var output: ImageSummary?
    /// When the job was submitted.
    package var createdAt: Date
    /// When a worker started processing the job; nil while queued.
    package var startedAt: Date?
    /// When the job succeeded, failed or was cancelled; nil until then.
    package var finishedAt: Date?
    /// When the job and its files are deleted.
    package var expiresAt: Date
    /// Why the job failed or was cancelled.
    package var error: ProblemDetails?
    /// Whether a cancel was asked for while the job ran.
    package var cancelRequested: Bool
    /// The name of the API key that submitted the job (nil on a server without keys); only that key may see it.
    package var owner: String?
    /// Whether the job runs with self-ensemble (`tta=true`); absent when it does not.
    package var tta: Bool?
    /// What the input was estimated to have gone through (JPEG quality, blockiness, noise σ), once the job runs.
    package var degradation: DegradationEstimate?
    /// "strip" when the job leaves the input's EXIF and XMP out of its result (`metadata=strip`); absent for keep.
    package var metadata: String?
    /// What the result keeps, updates or drops of the input's colour profile, EXIF, XMP and resolution, a line
    /// each, once the job runs.
    package var metadataReport: [String]?
    /// "srgb" when the job converts the upload's colours to sRGB first (`colour=srgb`); absent for keep.
    package var colour: String?
    /// The network chosen for the input, once the job runs: "srmd-x3, noise level 12", "srmdnf-x3 (clean)".
    package var choice: String?
    /// Times a worker has taken the job (jobs in a shared store only).
    package var attempts: Int?
    /// The worker running the job, or the last one that ran it (jobs in a shared store only).
    package var worker: String?
    /// Why a queued job is not being taken: no live worker serves its model (jobs in a shared store only).
    package var waiting: String?
    /// The client's `Idempotency-Key`: a second submission with it answers this job instead of making another.
    package var idempotencyKey: String?
    /// The estimate and the choice in one line for people:
    /// "JPEG quality 40, blockiness 1.61, noise σ ≈ 0.0 → srmd-x3, noise level 12".
    package var choiceSummary: String?

    /// The size the job was submitted with: its width or height, else its scale.
    var request: OutputRequest {
        width != nil || height != nil ? .size(width: width, height: height) : .factor(scale)
    }

    /// The input file's name inside the job's folder.
    var inputFileName: String { "input.\(Self.fileExtension(input.format))" }
    /// The result file's name inside the job's folder.
    var resultFileName: String { "result.\(Self.fileExtension(format))" }

    static func fileExtension(_ format: String) -> String { format == "jpeg" ? "jpg" : format }
}

/// A job as `GET /api/v1/jobs/{id}` shows it: the record plus its links, timings and place in the queue.
struct JobResource: Encodable, Sendable {
    struct Links: Encodable, Sendable {
        var this: String
        var events: String
        var result: String

        enum CodingKeys: String, CodingKey {
            case this = "self"
            case events, result
        }
    }

    struct Timings: Encodable, Sendable {
        /// Seconds from submission to the start of processing (or until now while queued).
        var queuedSeconds: Double?
        /// Seconds of processing (or so far while running).
        var processingSeconds: Double?
        /// Seconds from submission to the end (or until now).
        var totalSeconds: Double
    }

    var record: JobRecord
    var links: Links
    var timings: Timings

    init(_ record: JobRecord, now: Date = Date()) {
        self.record = record
        let base = "/api/v1/jobs/\(record.id)"
        links = Links(this: base, events: base + "/events", result: base + "/result")
        let end = record.finishedAt ?? now
        let queued = (record.startedAt ?? (record.state == .queued ? now : end)).timeIntervalSince(record.createdAt)
        timings = Timings(
            queuedSeconds: max(0, queued),
            processingSeconds: record.startedAt.map { max(0, end.timeIntervalSince($0)) },
            totalSeconds: max(0, end.timeIntervalSince(record.createdAt))
        )
    }

    func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
        var container = encoder.container(keyedBy: ExtraKeys.self)
        try container.encode(links, forKey: .links)
        try container.encode(timings, forKey: .timings)
    }

    private enum ExtraKeys: String, CodingKey {
        case links, timings
    }

    /// JSON as the API sends it.
    func json() -> Data {
        (try? JobJSON.encoder(pretty: false).encode(self)) ?? Data("{}".utf8)
    }
}

/// JSON coding of jobs: sorted keys, ISO 8601 dates with milliseconds.
enum JobJSON {
    static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty
            ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            : [
                .sortedKeys, .withoutEscapingSlashes,
            ]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
            return try Date.ISO8601FormatStyle().parse(text)
        }
        return decoder
    }
}
