import Engine
import Foundation
import Kernels
import Tensor

/// A loaded, ready-to-run super-resolution network with what is known about it.
public struct SuperResolutionModel: Sendable {
    /// The model file it came from.
    public let source: String
    /// The network family (as stated by the user, else detected from the file), which fixes pre- and post-processing.
    public let family: ModelFamily
    /// Output size ÷ input size.
    public let scale: Int
    /// Channels the network takes: 3 (BGR) or 1 (Y); for ncnn families 3 (RGB), SRMD 18 or 19.
    public let inputChannels: Int
    /// The prepared network.
    public let executor: GraphExecutor
    /// The output used as the result (NHWC: the loader drops the exports' final NCHW Transpose).
    public let outputName: String
    /// Input pixels of context a tile gets on each side: the receptive field when `tileMarginIsExact` (tiles then
    /// match the whole-image result), else a fixed context margin for networks whose field is too wide to carry
    /// (Real-ESRGAN x4plus: hundreds of pixels), where tiles differ slightly from the whole image near their seams.
    public let tileMargin: Int
    /// Operation counts of the file as written (before fusion), by TensorFlow op name or ncnn layer type.
    public let fileOperationCounts: [String: Int]
    /// Learned weights and biases.
    public let parameterCount: Int
    /// Floating-point operations (2 per multiply-add) per input pixel, convolutions only.
    public let flopsPerInputPixel: Int
    /// Whether `tileMargin` covers the whole receptive field.
    public internal(set) var tileMarginIsExact = true
    /// The most channels any convolution produces (sizes the feature maps for memory planning).
    public var widestFeatureMap: Int {
        executor.graph.nodes.compactMap { node -> Int? in
            if case .convolution(let g, _) = node.operation { return g.outputChannels }
            return nil
        }.max() ?? inputChannels
    }

    /// Runs the network on one NHWC input of `inputChannels` channels and returns its main output (NHWC).
    public func run(_ input: Tensor) throws(GraphError) -> Tensor {
        try executor.run(input, output: outputName)
    }
}
