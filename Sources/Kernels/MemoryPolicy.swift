import CAllocator

#if canImport(Glibc)
import Glibc
#endif

/// How the process gives memory back.
package enum MemoryPolicy {
    /// Hands the allocator's free memory back to the system (glibc keeps freed blocks below its mapping threshold,
    /// up to 32 MiB each, in its heaps). Called after a model is prepared: its plain weights, decoded from the file and
    /// now held in the kernels' own form, are gone, and their pages would otherwise stay resident.
    package static func returnFreedMemory() {
        _ = superres_malloc_trim(0)
    }

    /// Keeps up to `retainedBytes` of freed heap memory for reuse, and maps blocks of `mappingThreshold` bytes or more
    /// on their own (given back as soon as they are freed).
    ///
    /// glibc's defaults adapt: after a freed block of a few MiB its heap serves such blocks, but gives the top of the
    /// heap back whenever twice that much is free, so the image buffers of each upscale (a few MiB each for a video
    /// frame) are faulted in afresh every time; on the small networks that cost as much as the network. Call once, at
    /// start-up.
    package static func keepFreedMemoryForReuse(retainedBytes: Int = 128 << 20, mappingThreshold: Int = 32 << 20) {
        _ = superres_malloc_keep_freed(Int32(clamping: retainedBytes), Int32(clamping: mappingThreshold))
    }

    /// Asks for transparent huge pages over the whole 2 MiB pages inside `bytes` bytes at `base` (Linux with THP in
    /// `madvise` mode, Debian's default; elsewhere nothing). Call before the memory is first written: a feature map
    /// of several MiB that every layer sweeps then costs one TLB entry and one page fault per 2 MiB instead of 512.
    package static func adviseHugePages(_ base: UnsafeMutableRawPointer, bytes: Int) {
        #if canImport(Glibc)
        let start = (Int(bitPattern: base) + hugePageBytes - 1) / hugePageBytes * hugePageBytes
        let end = (Int(bitPattern: base) + bytes) / hugePageBytes * hugePageBytes
        guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(aligned, end - start, MADV_HUGEPAGE)
        #endif
    }

    /// `adviseHugePages` for a fresh buffer of floats that spans several huge pages; nothing for smaller ones.
    package static func adviseHugePages(for buffer: UnsafeMutableBufferPointer<Float>) {
        let bytes = buffer.count * MemoryLayout<Float>.stride
        guard bytes >= 2 * hugePageBytes, let base = buffer.baseAddress else { return }
        adviseHugePages(UnsafeMutableRawPointer(base), bytes: bytes)
    }

    /// A buffer of `count` floats whose contents are undefined, with huge pages asked for when it spans several.
    package static func uninitializedFloats(count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            adviseHugePages(for: buffer)
            initialized = count
        }
    }
}
