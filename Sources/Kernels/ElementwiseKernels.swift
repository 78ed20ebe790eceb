import Foundation
import Tensor

/// A binary element-wise operation.
package enum BinaryOperation: String, Sendable, Hashable {
    case add, subtract, multiply, divide, maximum, minimum

    /// The operation on two values.
    @inlinable
    package func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: a + b
        case .subtract: a - b
        case .multiply: a * b
        case .divide: a / b
        case .maximum: Swift.max(a, b)
        case .minimum: Swift.min(a, b)
        }
    }

    /// The operation on 16 pairs of values, lane by lane (the same result as `apply` on each lane).
    @inline(__always)
    package func apply(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
        switch self {
        case .add: return a + b
        case .subtract: return a - b
        case .multiply: return a * b
        case .divide: return a / b
        case .maximum: return a.replacing(with: b, where: b .> a)
        case .minimum: return a.replacing(with: b, where: b .< a)
        }
    }
}

/// A unary element-wise operation.
package enum UnaryOperation: String, Sendable, Hashable {
    case relu, abs, tanh, negate, sigmoid
    /// The error function (ONNX `Erf`, the heart of exact GELU).
    case erf
    /// `e^x` (ONNX `Exp`, softmax).
    case exp
    /// The square root (ONNX `Sqrt`, a layer norm's deviation).
    case sqrt
    /// `x · sigmoid(x)`, written as ncnn's Swish layer computes it: `x / (1 + exp(-x))`.
    case swish

    /// The operation on one value.
    @inlinable
    package func apply(_ x: Float) -> Float {
        switch self {
        case .relu: x < 0 ? 0 : x
        case .abs: Swift.abs(x)
        case .tanh: Foundation.tanh(x)
        case .negate: -x
        case .sigmoid: 1 / (1 + Foundation.exp(-x))
        case .swish: x / (1 + Foundation.exp(-x))
        case .erf: Foundation.erf(x)
        case .exp: Foundation.exp(x)
        case .sqrt: x.squareRoot()
        }
    }
}

/// Numpy-style broadcasting of two shapes; nil when they do not broadcast.
package func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    let pa = [Int](repeating: 1, count: rank - a.count) + a
    let pb = [Int](repeating: 1, count: rank - b.count) + b
    var out: [Int] = []
    for (x, y) in zip(pa, pb) {
        if x == y || y == 1 { out.append(x) } else if x == 1 { out.append(y) } else { return nil }
    }
    return out
}

/// Steps the row-major multi-index `index` to the next element of an array of `shape` (the last axis fastest); from
/// the last element it wraps to all zeros.
@inline(__always)
func advanceIndex(_ index: inout [Int], within shape: [Int]) {
    var axis = shape.count - 1
    while axis >= 0 {
        index[axis] += 1
        if index[axis] < shape[axis] { break }
        index[axis] = 0
        axis -= 1
    }
}

extension ReferenceKernels {
    /// `op(a, b)` with numpy broadcasting, index by index.
    package static func binary(_ op: BinaryOperation, _ a: Tensor, _ b: Tensor) -> Tensor {
        guard let shape = broadcastShape(a.shape, b.shape) else {
            preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let rank = shape.count
        let pa = [Int](repeating: 1, count: rank - a.rank) + a.shape
        let pb = [Int](repeating: 1, count: rank - b.rank) + b.shape
        func strides(_ dims: [Int]) -> [Int] {
            var result = [Int](repeating: 0, count: dims.count)
            var step = 1
            for axis in stride(from: dims.count - 1, through: 0, by: -1) {
                result[axis] = dims[axis] == 1 ? 0 : step
                step *= dims[axis]
            }
            return result
        }
        let sa = strides(pa)
        let sb = strides(pb)
        let count = shape.elementCount
        var out = [Float](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: rank)
        for flat in 0..<count {
            var ia = 0
            var ib = 0
            for axis in 0..<rank {
                ia += index[axis] * sa[axis]
                ib += index[axis] * sb[axis]
            }
            out[flat] = op.apply(a.scalars[ia], b.scalars[ib])
            advanceIndex(&index, within: shape)
        }
        return Tensor(shape: shape, scalars: out)
    }

    /// `op(x)` for every value.
    package static func unary(_ op: UnaryOperation, _ x: Tensor) -> Tensor {
        Tensor(shape: x.shape, scalars: x.scalars.map(op.apply))
    }

    /// `(a + b) · (sigmoid(a) − offset)`, broadcasting, as the four element-wise nodes it replaces compute it.
    package static func sigmoidGate(_ a: Tensor, _ b: Tensor, offset: Float) -> Tensor {
        let gate = binary(.subtract, unary(.sigmoid, a), Tensor(scalar: offset))
        return binary(.multiply, binary(.add, a, b), gate)
    }
}

/// Fast element-wise kernels for the broadcasts that occur in these networks.
package enum ElementwiseKernels {
    /// `op(a, b)` with broadcasting; fast paths for equal shapes, a scalar operand and a per-channel vector.
    package static func binary(_ op: BinaryOperation, _ a: Tensor, _ b: Tensor, pool: ComputePool = .shared) -> Tensor {
        if a.shape == b.shape {
            let scalars = mapVectorPairs(a.scalars, b.scalars, pool: pool) { op.apply($0, $1) }
            return Tensor(shape: a.shape, scalars: scalars)
        }
        if b.count == 1, b.rank <= a.rank {
            let s = SIMD16<Float>(repeating: b.scalars[0])
            return Tensor(shape: a.shape, scalars: mapVectors(a.scalars, pool: pool) { op.apply($0, s) })
        }
        if a.count == 1, a.rank <= b.rank {
            let s = SIMD16<Float>(repeating: a.scalars[0])
            return Tensor(shape: b.shape, scalars: mapVectors(b.scalars, pool: pool) { op.apply(s, $0) })
        }
        if let channels = a.shape.last, b.count == channels, b.rank <= a.rank, b.shape.last == channels,
            broadcastShape(a.shape, b.shape) == a.shape
        {
            return Tensor(shape: a.shape, scalars: perChannel(a.scalars, b.scalars, op: op, pool: pool))
        }
        return ReferenceKernels.binary(op, a, b)
    }

    /// `(a + b) · (sigmoid(a) − offset)` in one pass when a and b have the same shape (SPAN's gate); otherwise the
    /// four broadcasting operations.
    package static func sigmoidGate(_ a: Tensor, _ b: Tensor, offset: Float, pool: ComputePool = .shared) -> Tensor {
        guard a.shape == b.shape else {
            let gate = binary(.subtract, unary(.sigmoid, a, pool: pool), Tensor(scalar: offset), pool: pool)
            return binary(.multiply, binary(.add, a, b, pool: pool), gate, pool: pool)
        }
        let shift = SIMD16<Float>(repeating: offset)
        let scalars = mapVectorPairs(a.scalars, b.scalars, pool: pool) { x, y in
            (x + y) * (VectorMath.sigmoid(x) - shift)
        }
        return Tensor(shape: a.shape, scalars: scalars)
    }

    /// `op(x)` for every value; tanh, sigmoid and swish are vectorized (`VectorMath`, within a few units in the last
    /// place of Foundation's).
    package static func unary(_ op: UnaryOperation, _ x: Tensor, pool: ComputePool = .shared) -> Tensor {
        switch op {
        case .tanh: Tensor(shape: x.shape, scalars: mapVectors(x.scalars, pool: pool, VectorMath.tanh))
        case .sigmoid: Tensor(shape: x.shape, scalars: mapVectors(x.scalars, pool: pool, VectorMath.sigmoid))
        case .swish: Tensor(shape: x.shape, scalars: mapVectors(x.scalars, pool: pool, VectorMath.swish))
        case .relu, .abs, .negate, .erf, .exp, .sqrt: Tensor(shape: x.shape, scalars: map1(x.scalars, pool: pool, op.apply))
        }
    }

    /// `f` on 16 values at a time (the tail padded), spread over the pool (the pair loop with `a` twice: the second
    /// load hits the cache line the first brought in).
    private static func mapVectors(
        _ a: [Float], pool: ComputePool, _ f: (SIMD16<Float>) -> SIMD16<Float>
    ) -> [Float] {
        mapVectorPairs(a, a, pool: pool) { x, _ in f(x) }
    }

    /// `crop(a) + b` in one pass when the cropped `a` and `b` have the same shape (a U-Net's skip connection), rows
    /// spread over the pool; nil for other shapes (the caller crops, then adds with broadcasting).
    package static func addCropped(
        _ a: Tensor, top: Int, left: Int, bottom: Int, right: Int, _ b: Tensor, pool: ComputePool = .shared
    ) -> Tensor? {
        guard let shape = FeatureMapShape(nhwc: a.shape), let out = FeatureMapShape(nhwc: b.shape),
            min(top, left, bottom, right) >= 0, out.channels == shape.channels,
            out.height == shape.height - top - bottom, out.width == shape.width - left - right, out.elementCount > 0
        else { return nil }
        let rowLength = out.width * out.channels
        let sums = filled(count: b.count, from: a.scalars, b.scalars) { pa, pb, d in
            pool.parallelFor(out.height) { y in
                let from = pa.pointer + ((y + top) * shape.width + left) * shape.channels
                let other = pb.pointer + y * rowLength
                let to = d.pointer + y * rowLength
                var i = 0
                while i + 16 <= rowLength {
                    let x = UnsafeRawPointer(from + i).loadUnaligned(as: SIMD16<Float>.self)
                    let z = UnsafeRawPointer(other + i).loadUnaligned(as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(to + i).storeBytes(of: x + z, as: SIMD16<Float>.self)
                    i += 16
                }
                while i < rowLength {
                    to[i] = from[i] + other[i]
                    i += 1
                }
            }
        }
        return Tensor(shape: b.shape, scalars: sums)
    }

    /// `op(a, vector[channel])` for every value of `a` (pixels of `vector.count` channels), pixels spread over the
    /// pool, 16 channels at a time where the channel count allows.
    private static func perChannel(_ a: [Float], _ vector: [Float], op: BinaryOperation, pool: ComputePool) -> [Float] {
        let channels = vector.count
        let pixels = a.count / channels
        let pixelsPerPart = max(1, chunk / channels)
        return filled(count: a.count, from: a, vector) { pa, pv, d in
            pool.parallelFor((pixels + pixelsPerPart - 1) / pixelsPerPart) { part in
                for pixel in (part * pixelsPerPart)..<min(pixels, (part + 1) * pixelsPerPart) {
                    let base = pixel * channels
                    var c = 0
                    while c + 16 <= channels {
                        let x = UnsafeRawPointer(pa.pointer + base + c).loadUnaligned(as: SIMD16<Float>.self)
                        let y = UnsafeRawPointer(pv.pointer + c).loadUnaligned(as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(d.pointer + base + c).storeBytes(
                            of: op.apply(x, y), as: SIMD16<Float>.self)
                        c += 16
                    }
                    while c < channels {
                        d.pointer[base + c] = op.apply(pa.pointer[base + c], pv.pointer[c])
                        c += 1
                    }
                }
            }
        }
    }

    /// `f` on 16 pairs of values at a time (the tail padded), spread over the pool.
    private static func mapVectorPairs(
        _ a: [Float], _ b: [Float], pool: ComputePool, _ f: (SIMD16<Float>, SIMD16<Float>) -> SIMD16<Float>
    ) -> [Float] {
        precondition(a.count == b.count, "operands of \(a.count) and \(b.count) values")
        let count = a.count
        return filled(count: count, from: a, b) { pa, pb, d in
            pool.parallelFor((count + chunk - 1) / chunk) { part in
                var i = part * chunk
                let end = min(count, (part + 1) * chunk)
                while i + 16 <= end {
                    let x = UnsafeRawPointer(pa.pointer + i).loadUnaligned(as: SIMD16<Float>.self)
                    let y = UnsafeRawPointer(pb.pointer + i).loadUnaligned(as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(d.pointer + i).storeBytes(of: f(x, y), as: SIMD16<Float>.self)
                    i += 16
                }
                if i < end {
                    var x = SIMD16<Float>()
                    var y = SIMD16<Float>()
                    for lane in 0..<(end - i) {
                        x[lane] = pa.pointer[i + lane]
                        y[lane] = pb.pointer[i + lane]
                    }
                    let r = f(x, y)
                    for lane in 0..<(end - i) { d.pointer[i + lane] = r[lane] }
                }
            }
        }
    }

    /// `count` values written by `fill` from raw views of `a` and `b` (read only while it runs); empty operands give
    /// an empty result.
    private static func filled(
        count: Int, from a: [Float], _ b: [Float],
        _ fill: (SendablePointer<Float>, SendablePointer<Float>, SendableMutablePointer<Float>) -> Void
    ) -> [Float] {
        guard count > 0, !a.isEmpty, !b.isEmpty else { return [] }
        return [Float](unsafeUninitializedCapacity: count) { dst, initialized in
            MemoryPolicy.adviseHugePages(for: dst)
            a.withUnsafeBufferPointer { srcA in
                b.withUnsafeBufferPointer { srcB in
                    fill(
                        SendablePointer(srcA.baseAddress!), SendablePointer(srcB.baseAddress!),
                        SendableMutablePointer(dst.baseAddress!))
                }
            }
            initialized = count
        }
    }

    private static let chunk = 1 << 16

    private static func map1(_ a: [Float], pool: ComputePool, _ f: (Float) -> Float) -> [Float] {
        var out = [Float](repeating: 0, count: a.count)
        a.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let s = SendablePointer(src.baseAddress!)
                let d = SendableMutablePointer(dst.baseAddress!)
                let count = src.count
                pool.parallelFor((count + chunk - 1) / chunk) { part in
                    for i in part * chunk..<min(count, (part + 1) * chunk) { d.pointer[i] = f(s.pointer[i]) }
                }
            }
        }
        return out
    }
}

/// A pointer handed to pool threads; valid while the posting call waits for the loop.
struct SendablePointer<T>: @unchecked Sendable {
    // @unchecked Sendable: only read, and only during a `parallelFor` that the owner of the memory waits for.
    let pointer: UnsafePointer<T>
    init(_ pointer: UnsafePointer<T>) { self.pointer = pointer }
}

/// A mutable pointer handed to pool threads; each loop index writes a disjoint range.
struct SendableMutablePointer<T>: @unchecked Sendable {
    // @unchecked Sendable: the loop's indices write disjoint ranges while the owner waits for the loop.
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
