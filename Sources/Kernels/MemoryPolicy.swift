#if canImport(Glibc)
/// glibc's `malloc_trim` (declared in malloc.h, which the Glibc module does not export).
@_silgen_name("malloc_trim")
private func mallocTrim(_ pad: Int) -> Int32
#endif

/// How the process gives memory back.
public enum MemoryPolicy {
    /// Hands the allocator's free memory back to the system (glibc keeps freed blocks below its mapping threshold,
    /// up to 32 MiB each, in its heaps). Called after a model is prepared: its plain weights, decoded from the file and
    /// now held in the kernels' own form, are gone, and their pages would otherwise stay resident.
    public static func returnFreedMemory() {
        #if canImport(Glibc)
        _ = mallocTrim(0)
        #endif
    }
}
