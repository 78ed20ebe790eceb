import Engine
import Foundation
import Kernels
import Tensor

/// A loaded, ready-to-run super-resolution network with what is known about it.
package struct SuperResolutionModel: Sendable {
    /// The model file it came from.
    package let source: String
    /// The network family (as stated by the user, else detected from the file), which fixes pre- and post-processing.
    package let family: ModelFamily
    /// Output size ÷ input size.
    package let scale: Int
    /// Channels the network takes: 3 (BGR) or 1 (Y); for ncnn families 3 (RGB), SRMD 18 or 19.
    package let inputChannels: Int
    /// The prepared network.
    package let executor: GraphExecutor
    /// The output used as the result (NHWC: the loader drops the exports' final NCHW Transpose).
    package let outputName: String
    /// Input pixels of context a tile gets on each side: the receptive field when `tileMarginIsExact` (tiles then
    /// match the whole-image result), else a fixed context margin for networks whose field is too wide to carry
    /// (Real-ESRGAN x4plus: hundreds of pixels), where tiles differ slightly from the whole image near their seams.
    package let tileMargin: Int
    /// Operation counts of the file as written (before fusion), by TensorFlow op name or ncnn layer type.
    package let fileOperationCounts: [String: Int]
    /// Learned weights and biases.
    package let parameterCount: Int
    /// Floating-point operations (2 per multiply-add) per input pixel, convolutions only.
    package let flopsPerInputPixel: Int
    /// Whether `tileMargin` covers the whole receptive field.
    package internal(set) var tileMarginIsExact = true
    /// The most channels any convolution produces (sizes the feature maps for memory planning).
    package var widestFeatureMap: Int {
        executor.graph.nodes.compactMap { node -> Int? in
            if case .convolution(let g, _) = node.operation { return g.outputChannels }
            return nil
        }.max() ?? inputChannels
    }

    /// Runs the network on one NHWC input of `inputChannels` channels and returns its main output (NHWC).
    package func run(_ input: Tensor) throws(GraphError) -> Tensor {
        try executor.run(input, output: outputName)
    }
}
