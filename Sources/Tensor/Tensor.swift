/// A dense float32 tensor in row-major order.
///
/// Feature maps are NHWC with a batch of one: shape `[1, height, width, channels]`. Convolution weights are HWIO
/// (`[kernelHeight, kernelWidth, inputChannels, outputChannels]`), as TensorFlow stores them.
package struct Tensor: Sendable, Equatable {
    /// The size of each dimension, outermost first.
    package private(set) var shape: [Int]
    /// The values, row-major; `scalars.count == shape.product`.
    package var scalars: [Float]

    /// A tensor with the given shape and values; the count must match the shape.
    package init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(shape.elementCount == scalars.count, "shape \(shape) does not hold \(scalars.count) values")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of the given shape filled with one value.
    package init(shape: [Int], repeating value: Float = 0) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.elementCount))
    }

    /// A scalar (rank-0) tensor.
    package init(scalar: Float) {
        self.init(shape: [], scalars: [scalar])
    }

    /// The number of values.
    package var count: Int { scalars.count }
    /// The number of dimensions.
    package var rank: Int { shape.count }

    /// The same values seen with another shape of the same element count.
    package func reshaped(to newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }
}

extension Array where Element == Int {
    /// The product of the dimensions (1 for a scalar shape).
    package var elementCount: Int { reduce(1, *) }
}

/// The layout of one NHWC feature map (batch one).
package struct FeatureMapShape: Sendable, Hashable, CustomStringConvertible {
    /// Rows of the feature map (H).
    package var height: Int
    /// Columns of the feature map (W).
    package var width: Int
    /// Values per pixel (C).
    package var channels: Int

    /// The shape of a feature map of `height × width` pixels with `channels` values each.
    package init(height: Int, width: Int, channels: Int) {
        self.height = height
        self.width = width
        self.channels = channels
    }

    /// Reads `[1, H, W, C]`; nil for any other shape.
    package init?(nhwc shape: [Int]) {
        guard shape.count == 4, shape[0] == 1 else { return nil }
        self.init(height: shape[1], width: shape[2], channels: shape[3])
    }

    /// `[1, H, W, C]`.
    package var nhwc: [Int] { [1, height, width, channels] }
    /// `H * W * C`.
    package var elementCount: Int { height * width * channels }
    /// The shape as `H×W×C`, e.g. "64×64×3".
    package var description: String { "\(height)×\(width)×\(channels)" }
}
