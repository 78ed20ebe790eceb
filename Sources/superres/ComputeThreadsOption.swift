import ArgumentParser
import Kernels

/// `--threads` of the commands that compute in this process (`upscale`, `eval`): the size of the compute pool.
struct ComputeThreadsOption: ParsableArguments {
    @Option(help: "Compute threads (default: one per core).")
    var threads: Int?

    /// Refuses fewer than one thread. Not `validate()`, which the parser would run before the command's own checks:
    /// each command calls this where it checks `--threads`, so that its first error stays the one it reports.
    func check() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Sizes the compute pool to `--threads`, when it was given.
    func configurePool() {
        if let threads { ComputePool.configure(threads: threads) }
    }
}
