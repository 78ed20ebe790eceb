// EDSR as OpenCV's dnn_superres feeds it: BGR floats minus the DIV2K mean, the network, plus the mean.

import Tensor

/// EDSR: BGR on the 0...255 scale minus the DIV2K mean in, BGR out (plus the mean).
package struct EDSRProcessing: FamilyProcessing {
    /// The DIV2K mean that EDSR was trained with, in B, G, R order.
    package static let div2kMeanBGR: [Float] = [103.1545782, 111.561547, 114.35629928]

    func enlarge(
        _ planes: ImagePlanes, with upscaler: Upscaler, progress: (Int, Int) -> Void, shouldCancel: () -> Bool
    ) throws(PipelineError) -> ImagePlanes.Colour {
        let (w, h) = (planes.width, planes.height)
        let mean = Self.div2kMeanBGR
        // BGR floats in 0...255 (16-bit samples are scaled down to that range), minus the mean.
        let bgr = planes.bgrFloats255()
        var input = [Float](repeating: 0, count: w * h * 3)
        for p in 0..<(w * h) {
            for c in 0..<3 { input[p * 3 + c] = bgr[p * 3 + c] - mean[c] }
        }
        let output = try upscaler.runNetwork(
            Tensor(shape: [1, h, w, 3], scalars: input), progress: progress, shouldCancel: shouldCancel)
        var result = output.scalars
        let pixels = result.count / 3
        for p in 0..<pixels {
            for c in 0..<3 { result[p * 3 + c] += mean[c] }
        }
        return .bgr255(result)
    }
}
