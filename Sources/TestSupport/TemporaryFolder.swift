import Foundation

/// A fresh folder under the system temporary folder, removed with everything in it when the value is dropped.
package final class TemporaryFolder: Sendable {
    /// The folder's absolute path.
    package let path: String

    /// Creates the folder, named `label` followed by a UUID; stops the test process if it cannot.
    package init(_ label: String = "superres-tests") {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(label)-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            fatalError("cannot create the temporary folder \(path): \(error)")
        }
    }

    deinit { remove() }

    /// Removes the folder and everything in it now (a test that keeps only the path calls this in a `defer`, so the
    /// folder cannot go before the test ends).
    package func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// A path inside the folder.
    package func appending(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// The names in `folder` (default: this folder), hidden ones included, sorted.
    package func contents(of folder: String? = nil) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder ?? path)) ?? []).sorted()
    }
}
