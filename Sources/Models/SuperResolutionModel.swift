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
    /// Output pixels the network loses at each edge (Real-CUGAN's unpadded convolutions: its family pads the input
    /// by `borderLoss / scale`); 0 for networks whose output is exactly `scale` times their input.
    package internal(set) var borderLoss = 0
    /// The most channels any convolution produces (sizes the feature maps for memory planning).
    package var widestFeatureMap: Int {
        executor.graph.nodes.compactMap { node -> Int? in
            if case .convolution(let g, _) = node.operation { return g.outputChannels }
            return nil
        }.max() ?? inputChannels
    }

    /// The most values per input pixel alive at once during a run (every value kept from the step that makes it to
    /// its last reader, the one being made included): the size of a run's working set, concatenations and all.
    /// Nil when the graph's shapes cannot be inferred.
    package var liveValuesPerInputPixel: Int? {
        let graph = executor.graph
        let side = 16
        guard let shapes = try? graph.inferShapes(inputShape: [1, side, side, inputChannels]) else { return nil }
        var lastUse = Array(graph.nodes.indices)
        for (index, node) in graph.nodes.enumerated() {
            for input in node.inputs { lastUse[input] = max(lastUse[input], index) }
        }
        for output in graph.outputs { lastUse[output.node] = graph.nodes.count }
        var peak = 0
        for index in graph.nodes.indices {
            let live = graph.nodes.indices.filter { $0 <= index && lastUse[$0] >= index }
            peak = max(peak, live.reduce(0) { $0 + shapes[$1].reduce(1, *) })
        }
        return (peak + side * side - 1) / (side * side)
    }

    /// Runs the network on one NHWC input of `inputChannels` channels and returns its main output (NHWC).
    package func run(_ input: Tensor) throws(GraphError) -> Tensor {
        try executor.run(input, output: outputName)
    }
}
