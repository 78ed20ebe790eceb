import Synchronization

/// The bytes of request bodies that may be in memory at once, shared by every upload.
///
/// A request reserves its declared length (or the upload limit when it declares none) before its body is read, and
/// gives it back when the body is parsed or the request fails; when the budget cannot cover it, it is refused with
/// 503 without reading the body. So clients that send large bodies slowly, or stall, can hold at most the budget.
final class UploadBudget: Sendable {
    /// The budget in bytes.
    let capacity: Int
    private let reserved = Mutex(0)

    /// A budget of `capacity` bytes.
    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Bytes reserved now.
    var inUse: Int { reserved.withLock { $0 } }

    /// Reserves `bytes` if they fit; false otherwise.
    func reserve(_ bytes: Int) -> Bool {
        reserved.withLock { total in
            guard bytes <= capacity - total else { return false }
            total += bytes
            return true
        }
    }

    /// Gives back `bytes` reserved earlier.
    func release(_ bytes: Int) {
        reserved.withLock { $0 -= bytes }
    }
}
