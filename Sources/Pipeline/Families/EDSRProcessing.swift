// EDSR as OpenCV's dnn_superres feeds it: BGR floats minus the DIV2K mean, the network, plus the mean.

import Tensor

/// EDSR: BGR on the 0...255 scale minus the DIV2K mean in, BGR out (plus the mean).
package struct EDSRProcessing: FamilyProcessing {
    /// The DIV2K mean that EDSR was trained with, in B, G, R order.
    package static let div2kMeanBGR: [Float] = [103.1545782, 111.561547, 114.35629928]

    func enlargeBands(
        _ planes: ImagePlanes, with upscaler: Upscaler, progress: (Int, Int) -> Void, shouldCancel: () -> Bool,
        onBand: (_ firstRow: Int, _ rows: Int, _ colour: ImagePlanes.Colour) throws(PipelineError) -> Void
    ) throws(PipelineError) {
        let mean = Self.div2kMeanBGR
        // BGR floats in 0...255 (16-bit samples are scaled down to that range), minus the mean, a tile at a time.
        let input = NetworkInput(
            width: planes.width, height: planes.height, channels: 3,
            prepare: { y, height throws(PipelineError) in try planes.loadNetworkRows(y..<(y + height)) }
        ) { x, y, width, height in
            var values = planes.bgrFloats255(x: x, y: y, width: width, height: height)
            for p in 0..<(width * height) {
                for c in 0..<3 { values[p * 3 + c] -= mean[c] }
            }
            return values
        }
        try upscaler.runNetworkBands(input, progress: progress, shouldCancel: shouldCancel) {
            firstRow, band throws(PipelineError) in
            for p in 0..<(band.scalars.count / 3) {
                for c in 0..<3 { band.scalars[p * 3 + c] += mean[c] }
            }
            try onBand(firstRow, band.shape[1], .bgr255(band.scalars))
        }
    }
}
