import ArgumentParser
import Kernels

/// `superres`: AI image super-resolution from the command line.
@main
struct Superres: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "superres",
        abstract: "Enlarge images by any factor from 1 to 16 with super-resolution networks (SPAN, SRMD, EDSR, …).",
        discussion: """
            Exit status: 0 on success, 1 when an input or model could not be processed (one line on stderr says \
            why), 64 for a usage error.
            """,
        version: "0.1.0",
        subcommands: [
            UpscaleCommand.self, InfoCommand.self, BenchCommand.self, EvalCommand.self, ServeCommand.self,
            WorkerCommand.self, BatchCommand.self, StoreCommand.self, ModelsCommand.self,
        ]
    )

    static func main() async {
        MemoryPolicy.keepFreedMemoryForReuse()
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
