import Synchronization

// Reusable scratch memory for Winograd convolutions, so that a network's layers share a few buffers instead of each
// keeping its own.
#if canImport(Glibc)
import Glibc
#endif

/// A process-wide pool of 64-byte-aligned scratch buffers.
///
/// A call borrows one buffer for its whole duration and gives it back; buffers are kept for the next call, so a
/// network that runs its layers one after another ends up holding one buffer of its largest layer's size. Calls that
/// run at the same time (on different pools) each get their own buffer.
final class ConvolutionScratchArena: Sendable {
    static let shared = ConvolutionScratchArena()

    private let freeBuffers = Mutex<[ScratchBuffer]>([])

    /// Runs `body` with at least `bytes` bytes of uninitialised memory, aligned to 64 bytes.
    func withBuffer<R>(bytes: Int, _ body: (UnsafeMutableRawPointer) -> R) -> R {
        let needed = max(bytes, 64)
        var buffer = freeBuffers.withLock { buffers -> ScratchBuffer? in
            if let index = buffers.firstIndex(where: { $0.bytes >= needed }) { return buffers.remove(at: index) }
            return buffers.popLast()
        }
        if let small = buffer, small.bytes < needed {
            small.base.deallocate()
            buffer = nil
        }
        let owned = buffer ?? ScratchBuffer(bytes: needed)
        defer { freeBuffers.withLock { $0.append(owned) } }
        return body(owned.base)
    }

    /// Frees every buffer not in use; the bytes it gave back.
    @discardableResult
    func releaseUnused() -> Int {
        let buffers = freeBuffers.withLock { buffers in
            defer { buffers.removeAll() }
            return buffers
        }
        for buffer in buffers { buffer.base.deallocate() }
        return buffers.reduce(0) { $0 + $1.bytes }
    }

    /// The bytes held by buffers not in use.
    var unusedBytes: Int { freeBuffers.withLock { $0.reduce(0) { $0 + $1.bytes } } }
}

/// One scratch allocation.
private struct ScratchBuffer: @unchecked Sendable {
    // @unchecked Sendable: a buffer is owned either by the arena's free list (under its mutex) or by exactly one
    // call, which returns it when done.
    let base: UnsafeMutableRawPointer
    let bytes: Int

    init(bytes: Int) {
        self.bytes = bytes
        base = allocateLargeBuffer(bytes: bytes)
    }
}

/// The size of a huge page: big buffers are aligned to it so that the kernel can back them with huge pages.
let hugePageBytes = 2 << 20

/// `bytes` of memory aligned to 64 bytes, and to 2 MiB with transparent huge pages requested when it is large:
/// the transformed weights and tiles span megabytes that the matrix products sweep again and again, and with
/// 4 KiB pages the TLB misses cost about a fifth of the time. Free with `deallocate()`.
func allocateLargeBuffer(bytes: Int) -> UnsafeMutableRawPointer {
    guard bytes >= hugePageBytes else { return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) }
    let rounded = (bytes + hugePageBytes - 1) / hugePageBytes * hugePageBytes
    let base = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: hugePageBytes)
    #if canImport(Glibc)
    _ = madvise(base, rounded, MADV_HUGEPAGE)
    #endif
    return base
}
