/// A number known while importing, possibly in terms of the input's height H and width W: `h·H + w·W + c`.
///
/// Exports with dynamic height and width compute their reshape targets and resize sizes from `Shape` (the
/// Shape/Gather/Mul/Concat arithmetic); carrying those numbers as affine expressions lets the importer read the
/// intent (a pixel shuffle by r, a resize by 2) once, for every input size. Division by a constant keeps exact
/// fractions (H/2 for a network that halves its input, whose inputs are then even).
struct SymbolicSize: Sendable, Equatable, CustomStringConvertible {
    /// The coefficient of the input's height.
    var h: Double = 0
    /// The coefficient of the input's width.
    var w: Double = 0
    /// The constant term.
    var c: Double = 0

    /// A constant.
    static func constant(_ value: Double) -> SymbolicSize { SymbolicSize(c: value) }

    /// The input's height.
    static let height = SymbolicSize(h: 1)
    /// The input's width.
    static let width = SymbolicSize(w: 1)

    /// The value when it does not depend on the input's size.
    var constantValue: Double? { h == 0 && w == 0 ? c : nil }

    /// The value as an integer when it is a constant whole number.
    var integer: Int? {
        guard let value = constantValue, value == value.rounded(), abs(value) < 0x1p62 else { return nil }
        return Int(value)
    }

    /// The value for an input of `height × width`.
    func value(height: Int, width: Int) -> Double { h * Double(height) + w * Double(width) + c }

    static func + (a: SymbolicSize, b: SymbolicSize) -> SymbolicSize { SymbolicSize(h: a.h + b.h, w: a.w + b.w, c: a.c + b.c) }
    static func - (a: SymbolicSize, b: SymbolicSize) -> SymbolicSize { SymbolicSize(h: a.h - b.h, w: a.w - b.w, c: a.c - b.c) }

    /// `self × k` for a constant k.
    func scaled(_ k: Double) -> SymbolicSize { SymbolicSize(h: h * k, w: w * k, c: c * k) }

    /// The product, when one side is a constant (a product of two sizes is not affine).
    func times(_ other: SymbolicSize) -> SymbolicSize? {
        if let k = other.constantValue { return scaled(k) }
        if let k = constantValue { return other.scaled(k) }
        return nil
    }

    /// The quotient by a non-zero constant; integer division truncates when both sides are constant integers.
    func divided(by other: SymbolicSize, integer: Bool) -> SymbolicSize? {
        guard let k = other.constantValue, k != 0 else { return nil }
        if let value = constantValue {
            return .constant(integer ? (value / k).rounded(.towardZero) : value / k)
        }
        return scaled(1 / k)
    }

    var description: String {
        var terms: [String] = []
        if h != 0 { terms.append(h == 1 ? "H" : "\(h)·H") }
        if w != 0 { terms.append(w == 1 ? "W" : "\(w)·W") }
        if c != 0 || terms.isEmpty { terms.append(c == c.rounded() && abs(c) < 1e15 ? "\(Int(c))" : "\(c)") }
        return terms.joined(separator: " + ")
    }
}

/// The shape of a feature map while importing: batch 1, `channels` fixed, height and width in terms of the input's.
struct MapShape: Sendable, Equatable {
    /// Channels (the engine needs them to lay out weights).
    var channels: Int
    /// Rows.
    var height: SymbolicSize
    /// Columns.
    var width: SymbolicSize
    /// 4 for an NCHW map, 2 for a flattened `[1, C]` vector (a pooled map after Flatten, before Gemm).
    var rank = 4
    /// Whether the export has transposed the map to NHWC (`[1, H, W, C]`), as transformer-style blocks do around
    /// their LayerNorm and Linear layers. The engine's map is NHWC either way; only the ONNX axes differ.
    var channelsLast = false

    /// The ONNX dimensions: NCHW, NHWC when `channelsLast`, or `[1, C]`.
    var dims: [SymbolicSize] {
        let c = SymbolicSize.constant(Double(channels))
        if rank == 2 { return [.constant(1), c] }
        return channelsLast ? [.constant(1), height, width, c] : [.constant(1), c, height, width]
    }

    /// The ONNX axis of the channels.
    var channelAxis: Int { rank == 4 && channelsLast ? 3 : 1 }
}
