import CAllocator

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
}
