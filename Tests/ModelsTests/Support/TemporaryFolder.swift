import Foundation

/// A fresh folder under the system temporary folder, removed when the value is dropped.
final class TemporaryFolder: Sendable {
    let path: String

    init(_ label: String = "superres-tests") {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(label)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A path inside the folder.
    func appending(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// The names in `folder` (default: this folder), hidden ones included, sorted.
    func contents(of folder: String? = nil) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder ?? path)) ?? []).sorted()
    }
}
