extension WinogradConvolution {
    /// Runs the matrix-product micro-kernel `repetitions` times over the same cache-resident operands (6 tiles ×
    /// 32 channels × `depth`); returns the floating-point operations done. For measuring the kernel's peak.
    package static func runMicroKernel(depth: Int, repetitions: Int) -> Int {
        let v = UnsafeMutablePointer<Float>.allocate(capacity: 6 * depth)
        let u = UnsafeMutablePointer<Float>.allocate(capacity: 32 * depth)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: 6 * 32)
        defer {
            v.deallocate()
            u.deallocate()
            m.deallocate()
        }
        v.initialize(repeating: 0.5, count: 6 * depth)
        u.initialize(repeating: 0.25, count: 32 * depth)
        for _ in 0..<repetitions {
            // As `WinogradJob.multiply` does it on this build: one 6 × 32 call, or two 6 × 16 ones with AVX2.
            #if SUPERRES_AVX512_REGISTERS
            winogradKernel6x32(v, rowStride: depth, rows: 6, u, u + 16 * depth, depth: depth, m, targetStride: 32)
            #else
            winogradKernel6x16(v, rowStride: depth, rows: 6, u, depth: depth, m, targetStride: 32)
            winogradKernel6x16(v, rowStride: depth, rows: 6, u + 16 * depth, depth: depth, m + 16, targetStride: 32)
            #endif
        }
        return 2 * 6 * 32 * depth * repetitions
    }
}
