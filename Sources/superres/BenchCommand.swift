import ArgumentParser
import Foundation
import Imaging
import Kernels
import ModelStore
import Models
import Pipeline

#if canImport(Glibc)
import Glibc
#endif

/// `superres bench`: time the whole upscale (colour conversion, network, back to 8 bits) like OpenCV's `upsample()`.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time upscaling at several input sizes (median and min of repeated runs, peak memory, GFLOP/s).",
        discussion: """
            Each (model, size, threads) case runs in a child process of its own, so its peak RSS is its own. The \
            input is a seeded random square crop of --image (tiled when the crop is larger), as \
            shared/tools/opencv_bench.py does for OpenCV; compare the two with scripts/bench-vs-opencv.
            """)

    @Option(name: .customLong("model"), help: "Model files (repeatable).")
    var models: [String] = []

    @Option(help: "Input sizes, comma-separated: N for N×N, or WxH (e.g. 64,256,640x360).")
    var sizes: String = "64,128,256"

    @Option(help: "Thread counts, comma-separated.")
    var threads: String = "\(ComputePool.defaultThreadCount)"

    @Option(help: "Convolution arithmetic, comma-separated: fp32, bf16 (each is a case of its own).")
    var precision: String = "fp32"

    @Option(help: "Timed runs per case (the median and min are reported).")
    var runs: Int = 3

    @Option(help: "Untimed warm-up runs per case.")
    var warmup: Int = 1

    @Option(help: "Tile size passed to the upscaler (default: automatic).")
    var tile: Int?

    @Option(help: "Image to crop inputs from (default: shared/datasets/Set14/baboon.png beside the checkout).")
    var image: String?

    @Option(help: "Also write the rows as JSON here.")
    var json: String?

    @Flag(
        help: """
            Measure this machine's ceiling instead of a model: the Winograd matrix micro-kernel (6 tiles × 32 \
            channels, operands in L1) on 1 thread and on each --threads count, in GFLOP/s.
            """)
    var ceiling = false

    @Option(name: .customLong("child-size"), help: .hidden) var childSize: String?
    @Option(name: .customLong("child-threads"), help: .hidden) var childThreads: Int?

    /// The precisions of `--precision`, or nil when one is not a precision.
    var precisions: [Precision]? {
        let names = precision.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let parsed = names.compactMap(Precision.init(rawValue:))
        return parsed.count == names.count && !parsed.isEmpty ? parsed : nil
    }

    func validate() throws {
        if models.isEmpty && !ceiling { throw ValidationError("give at least one --model (or --ceiling)") }
        if runs < 1 || warmup < 0 { throw ValidationError("--runs must be ≥ 1 and --warmup ≥ 0") }
        if parse(threads).isEmpty { throw ValidationError("--threads needs numbers") }
        if BenchSize.list(sizes) == nil { throw ValidationError("--sizes needs sizes like 64,256,640x360") }
        guard let precisions else { throw ValidationError("--precision takes fp32, bf16 or both (fp32,bf16)") }
        if precisions.contains(.bf16) && BFloat16Hardware.best == nil {
            throw ValidationError(BFloat16Hardware.unavailableReason)
        }
    }

    func parse(_ list: String) -> [Int] { list.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 } }

    func run() throws {
        if ceiling {
            measureCeiling()
            return
        }
        if let sizeText = childSize, let size = BenchSize(sizeText), let threadCount = childThreads {
            let row = try CommandLineFailure.reporting {
                try measure(model: models[0], size: size, threads: threadCount, precision: precisions?.first ?? .fp32)
            }
            let data = try JSONEncoder().encode(row)
            print(String(decoding: data, as: UTF8.self))
            return
        }
        var rows: [BenchRow] = []
        for model in models {
            for precision in precisions ?? [] {
                for threadCount in parse(threads) {
                    for size in BenchSize.list(sizes) ?? [] {
                        let row = try CommandLineFailure.reporting {
                            try runChild(model: model, size: size, threads: threadCount, precision: precision)
                        }
                        printError(
                            "... \(row.model) \(precision) \(size) threads=\(threadCount): median "
                                + "\(String(format: "%.4f", row.medianSeconds)) s")
                        rows.append(row)
                    }
                }
            }
        }
        print(BenchRow.markdownTable(rows))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(rows).write(to: URL(fileURLWithPath: json))
        }
    }

    /// The micro-kernel's rate on cache-resident operands: what the convolution kernels could reach at best.
    func measureCeiling() {
        print("| threads | micro-kernel GFLOP/s | per thread |")
        print("|---|---|---|")
        for threadCount in Array(Set([1] + parse(threads))).sorted() {
            let pool = ComputePool(threadCount: threadCount)
            let repetitions = 20_000
            func once() -> Double {
                let start = DispatchTime.now().uptimeNanoseconds
                pool.parallelFor(threadCount) { _ in
                    _ = WinogradConvolution.runMicroKernel(depth: 256, repetitions: repetitions)
                }
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            }
            _ = once()
            let best = (0..<5).map { _ in once() }.min()!
            let flops = Double(2 * 6 * 32 * 256 * repetitions * threadCount)
            let rate = flops / best / 1e9
            print("| \(threadCount) | \(String(format: "%.0f", rate)) | \(String(format: "%.0f", rate / Double(threadCount))) |")
        }
    }

    func runChild(model: String, size: BenchSize, threads threadCount: Int, precision: Precision) throws -> BenchRow {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var arguments = [
            "bench", "--model", model, "--runs", "\(runs)", "--warmup", "\(warmup)",
            "--child-size", size.argument, "--child-threads", "\(threadCount)", "--precision", precision.rawValue,
        ]
        if let tile { arguments += ["--tile", "\(tile)"] }
        if let image { arguments += ["--image", image] }
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last
        else { throw CommandLineFailure("benchmark of \(model) at \(size) failed") }
        return try JSONDecoder().decode(BenchRow.self, from: Data(line.utf8))
    }

    /// One case, in this process.
    func measure(
        model path: String, size: BenchSize, threads threadCount: Int, precision: Precision
    ) throws -> BenchRow {
        ComputePool.configure(threads: threadCount)
        let model = try ModelLoader.load(nameOrPath: path, precision: precision)
        let input = try BenchInput.crop(size, from: image ?? BenchInput.defaultImage)
        let upscaler = Upscaler(model: model, options: UpscaleOptions(tileSize: tile))
        let rssAfterLoad = BenchInput.peakRSSMegabytes()
        let rssModel = BenchInput.currentRSSMegabytes()
        for _ in 0..<warmup { _ = try upscaler.upscale(input) }
        var times: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try upscaler.upscale(input)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let sorted = times.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        return BenchRow(
            model: (path as NSString).lastPathComponent, family: model.family.rawValue, scale: model.scale, size: size.width, width: size.width, height: size.height,
            threads: threadCount, precision: precision.rawValue, runs: times, medianSeconds: median, minSeconds: sorted[0],
            gflops: Double(model.flopsPerInputPixel) * Double(size.pixels) / median / 1e9,
            megapixelsOutPerSecond: Double(size.pixels * model.scale * model.scale) / median / 1e6,
            msPerInputMegapixel: median * 1000 / (Double(size.pixels) / 1e6),
            rssLoadMB: rssAfterLoad, rssModelMB: rssModel, rssPeakMB: BenchInput.peakRSSMegabytes())
    }
}

/// One benchmark case's numbers.
struct BenchRow: Codable {
    var model: String
    var family: String
    var scale: Int
    /// The input width (kept under this name for older JSON readers); `width` and `height` give the whole size.
    var size: Int
    var width: Int
    var height: Int
    var threads: Int
    /// The convolution arithmetic (absent in rows written before it was an option: fp32).
    var precision: String?
    var runs: [Double]
    var medianSeconds: Double
    var minSeconds: Double
    var gflops: Double
    var megapixelsOutPerSecond: Double
    var msPerInputMegapixel: Double
    /// Peak resident memory while the model loaded.
    var rssLoadMB: Double
    /// Resident memory once the model is loaded (what it holds while idle).
    var rssModelMB: Double
    /// Peak resident memory of the whole case.
    var rssPeakMB: Double

    static func markdownTable(_ rows: [BenchRow]) -> String {
        var lines = [
            "| model | precision | LR size | threads | median s | min s | ms / input MP | MPix out/s | GFLOP/s | RSS load peak MB | RSS model MB | RSS peak MB |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows {
            lines.append(
                "| \(r.model) | \(r.precision ?? "fp32") | \(r.width)×\(r.height) | \(r.threads) | \(String(format: "%.4f", r.medianSeconds)) | "
                    + "\(String(format: "%.4f", r.minSeconds)) | \(String(format: "%.0f", r.msPerInputMegapixel)) | "
                    + "\(String(format: "%.2f", r.megapixelsOutPerSecond)) | \(String(format: "%.1f", r.gflops)) | "
                    + "\(String(format: "%.0f", r.rssLoadMB)) | \(String(format: "%.0f", r.rssModelMB)) | "
                    + "\(String(format: "%.0f", r.rssPeakMB)) |")
        }
        return lines.joined(separator: "\n")
    }
}

/// Benchmark inputs and memory readings.
enum BenchInput {
    static var defaultImage: String {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        // .build/<config>/superres → checkout → ../shared
        var folder = executable.deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = folder.appendingPathComponent("../shared/datasets/Set14/baboon.png").standardizedFileURL
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate.path }
            folder.deleteLastPathComponent()
        }
        return "../shared/datasets/Set14/baboon.png"
    }

    /// A seeded random crop of `size` from the image (tiled if the image is smaller).
    static func crop(_ size: BenchSize, from path: String) throws -> PixelImage {
        let (width, height) = (size.width, size.height)
        let source = try ImageFile.read(path)
        guard case .uint8(let samples) = source.samples, source.layout == .rgb else {
            throw CommandLineFailure("\(path): the benchmark image must be 8-bit RGB")
        }
        var state = UInt64(1000 + width + (height == width ? 0 : 100_000 * height))
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return bound <= 1 ? 0 : Int((state >> 33) % UInt64(bound))
        }
        let x0 = next(max(1, source.width - width + 1))
        let y0 = next(max(1, source.height - height + 1))
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let sx = (x0 + x) % source.width
                let sy = (y0 + y) % source.height
                for c in 0..<3 { out[(y * width + x) * 3 + c] = samples[(sy * source.width + sx) * 3 + c] }
            }
        }
        return PixelImage(width: width, height: height, layout: .rgb, uint8: out)
    }

    /// Peak resident set size of this process so far (VmHWM), in MB.
    static func peakRSSMegabytes() -> Double { statusMegabytes("VmHWM:") }

    /// The resident memory now, in MiB.
    static func currentRSSMegabytes() -> Double { statusMegabytes("VmRSS:") }

    static func statusMegabytes(_ field: String) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
            let kilobytes = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return .nan }
        return kilobytes / 1024
    }
}

/// One benchmark input size: `N` (N×N) or `WxH`.
struct BenchSize: Sendable, CustomStringConvertible {
    var width: Int
    var height: Int

    init?(_ text: String) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
            .map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(parts.count), let width = parts[0], let height = parts.last!, width > 0, height > 0 else {
            return nil
        }
        self.width = width
        self.height = height
    }

    /// The sizes of a comma-separated list, or nil if any is malformed (or there are none).
    static func list(_ text: String) -> [BenchSize]? {
        let sizes = text.split(separator: ",").map { BenchSize(String($0)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 != nil }) else { return nil }
        return sizes.compactMap { $0 }
    }

    var pixels: Int { width * height }
    var argument: String { "\(width)x\(height)" }
    var description: String { "\(width)×\(height)" }
}
