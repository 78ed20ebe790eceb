import ArgumentParser

/// `superres`: AI image super-resolution from the command line.
@main
struct Superres: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "superres",
        abstract: "Enlarge images 2×, 3× or 4× with super-resolution networks (EDSR, ESPCN, FSRCNN, LapSRN).",
        version: "0.1.0",
        subcommands: []
    )
}
