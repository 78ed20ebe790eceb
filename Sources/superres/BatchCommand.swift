import ArgumentParser
import BatchClient
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `superres batch DIR -o OUTDIR --server URL`
struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Enlarge a folder of images through a superres service's jobs API, resumably.",
        discussion: """
            Every PNG, JPEG, WebP and TIFF image of DIR and its subfolders (hidden files skipped) is submitted to \
            the service at --server, at most --concurrency jobs at a time, and its result is written under OUTDIR \
            at the same relative path (a/b.jpg gives OUTDIR/a/b.jpg, or OUTDIR/a/b.png with --format png) through a \
            temporary file, so that no result is ever half written. OUTDIR/.superres-batch.json records how far \
            each image got: run the same command again after a failure, a crash or Ctrl-C and it skips the images \
            done, follows the jobs already submitted instead of sending their images again, and retries the ones \
            that failed. A busy or restarting server is waited for (its Retry-After honoured, else back-off from \
            0.5 s to 30 s); an image is given up after 10 failed attempts or when the server refuses it. Exit \
            status: 0 when every image succeeded or was done already, 1 when any failed, 64 for a usage error, 130 \
            after Ctrl-C (143 after SIGTERM).
            """
    )

    @Argument(help: "Folder of images (searched recursively).")
    var folder: String

    @Option(name: .shortAndLong, help: "Output folder (created if needed); it holds the batch's manifest.")
    var output: String

    @Option(help: "The service's URL, such as http://127.0.0.1:8080.")
    var server: String

    @Option(help: "A model the server has loaded (default: the server's default model).")
    var model: String?

    @Option(help: "Enlargement: any number from 1 to 16 (default: the model's own).")
    var scale: Double?

    @Option(help: "Results' format: png, jpeg, webp or tiff (default: each input's own).")
    var format: String?

    @Option(help: "Jobs submitted and not yet downloaded at once.")
    var concurrency: Int = 4

    @Option(help: "API key, sent as `Authorization: Bearer KEY` (default: env SUPERRES_API_KEY).")
    var apiKey: String?

    @Flag(help: "Start a new batch even when OUTDIR's manifest records one with other settings.")
    var restart = false

    @Flag(name: .shortAndLong, help: "No progress bar and no messages while the batch runs (the summary stays).")
    var quiet = false

    func validate() throws {
        if !(1...64).contains(concurrency) { throw ValidationError("--concurrency must be 1...64") }
        if let scale, !(scale.isFinite && scale >= 1 && scale <= 16) {
            throw ValidationError("--scale must be a number from 1 to 16")
        }
        if let format, BatchRunner.normalizedFormat(format) == nil {
            throw ValidationError("--format must be png, jpeg, webp or tiff")
        }
        if let model, model.isEmpty { throw ValidationError("--model must not be empty") }
    }

    func run() async throws {
        let interruption = Interruption.install()
        let quiet = quiet
        let bar = ProgressBar(label: "batch", amounts: .images, drawing: !quiet)
        let environment = ProcessInfo.processInfo.environment
        var configuration = BatchConfiguration(
            inputFolder: folder,
            outputFolder: output,
            server: server,
            settings: BatchSettings(model: model, scale: scale, format: format.flatMap(BatchRunner.normalizedFormat))
        )
        configuration.concurrency = concurrency
        configuration.apiKey = textSetting(apiKey, "SUPERRES_API_KEY", environment)
        configuration.restart = restart
        let runner = BatchRunner(
            configuration: configuration,
            onProgress: { done, total in bar.update(done, of: total) },
            onLine: { line in
                if !quiet { bar.printLine("superres: batch: \(line)") }
            }
        )
        // Interruption only raises a flag: watch it, and turn it into a stop of the runner.
        let watcher = Task {
            while !Task.isCancelled {
                if interruption.isRequested {
                    runner.stop()
                    return
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        defer { watcher.cancel() }
        let summary: BatchSummary
        do throws(BatchError) {
            summary = try await runner.run()
        } catch {
            bar.finish()
            printError("superres: batch: \(error)")
            throw ExitCode(error.isUsageError ? 64 : 1)
        }
        bar.finish()
        printError(summary.line)
        for failure in summary.failures { printError("  \(failure.path): \(failure.reason)") }
        if let reason = summary.abortReason { printError("batch: stopped early: \(reason)") }
        if interruption.isRequested || summary.interrupted {
            printError(
                "batch: interrupted; run the same command again to finish (submitted jobs are followed, not sent "
                    + "again)"
            )
            throw ExitCode(interruption.isRequested ? interruption.exitStatus : 130)
        }
        if summary.failed > 0 || summary.abortReason != nil { throw ExitCode(1) }
    }
}
