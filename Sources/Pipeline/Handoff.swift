import Foundation

/// A one-slot channel between two threads: `put` waits while the slot is full, `take` while it is empty.
///
/// It bounds a producer to one finished item ahead of its consumer, which is what keeps `FileBatch`'s memory to a
/// few images.
final class Handoff<Value>: @unchecked Sendable {
    // @unchecked Sendable: `slot` and `closed` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var slot: Value?
    private var closed = false

    /// Puts `value` in the slot once it is empty; false (and `value` dropped) when the handoff was closed.
    func put(_ value: Value) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while slot != nil && !closed { condition.wait() }
        guard !closed else { return false }
        slot = value
        condition.broadcast()
        return true
    }

    /// Takes the value from the slot once there is one; nil when the handoff is closed and empty.
    func take() -> Value? {
        condition.lock()
        defer { condition.unlock() }
        while slot == nil && !closed { condition.wait() }
        guard let value = slot else { return nil }
        slot = nil
        condition.broadcast()
        return value
    }

    /// No more values will come: `take` gives what is left, then nil; a waiting `put` gives up.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
