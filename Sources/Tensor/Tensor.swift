/// A dense float32 tensor in row-major order.
///
/// Feature maps are NHWC with a batch of one: shape `[1, height, width, channels]`. Convolution weights are HWIO
/// (`[kernelHeight, kernelWidth, inputChannels, outputChannels]`), as TensorFlow stores them.
public struct Tensor: Sendable, Equatable {
    /// The size of each dimension, outermost first.
    public private(set) var shape: [Int]
    /// The values, row-major; `scalars.count == shape.product`.
    public var scalars: [Float]

    /// A tensor with the given shape and values; the count must match the shape.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(shape.elementCount == scalars.count, "shape \(shape) does not hold \(scalars.count) values")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of the given shape filled with one value.
    public init(shape: [Int], repeating value: Float = 0) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.elementCount))
    }

    /// A scalar (rank-0) tensor.
    public init(scalar: Float) {
        self.init(shape: [], scalars: [scalar])
    }

    /// The number of values.
    public var count: Int { scalars.count }
    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// The same values seen with another shape of the same element count.
    public func reshaped(to newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }
}

extension Array where Element == Int {
    /// The product of the dimensions (1 for a scalar shape).
    public var elementCount: Int { reduce(1, *) }
}

/// The layout of one NHWC feature map (batch one).
public struct FeatureMapShape: Sendable, Hashable, CustomStringConvertible {
    /// Rows of the feature map (H).
    public var height: Int
    /// Columns of the feature map (W).
    public var width: Int
    /// Values per pixel (C).
    public var channels: Int

    /// The shape of a feature map of `height × width` pixels with `channels` values each.
    public init(height: Int, width: Int, channels: Int) {
        self.height = height
        self.width = width
        self.channels = channels
    }

    /// Reads `[1, H, W, C]`; nil for any other shape.
    public init?(nhwc shape: [Int]) {
        guard shape.count == 4, shape[0] == 1 else { return nil }
        self.init(height: shape[1], width: shape[2], channels: shape[3])
    }

    /// `[1, H, W, C]`.
    public var nhwc: [Int] { [1, height, width, channels] }
    /// `H * W * C`.
    public var elementCount: Int { height * width * channels }
    /// The shape as `H×W×C`, e.g. "64×64×3".
    public var description: String { "\(height)×\(width)×\(channels)" }
}
