// ESPCN, FSRCNN and LapSRN as OpenCV's dnn_superres feeds them: 8-bit BGR to YCrCb (OpenCV's integer arithmetic),
// Y/255 through the network, Cr and Cb enlarged by `cv::resize`, merged, ×255 to 8 bits, back to BGR.

import Imaging
import Tensor

/// The Y-channel families (ESPCN, FSRCNN, LapSRN): the network sees luma only; chroma is interpolated.
struct LumaProcessing: FamilyProcessing {
    func enlargeBands(
        _ planes: ImagePlanes, with upscaler: Upscaler, progress: (Int, Int) -> Void, shouldCancel: () -> Bool,
        onBand: (_ firstRow: Int, _ rows: Int, _ colour: ImagePlanes.Colour) throws(PipelineError) -> Void
    ) throws(PipelineError) {
        let (w, h, s) = (planes.width, planes.height, upscaler.model.scale)
        // Y, Cr and Cb of the whole input (input-sized planes); the output is made a band at a time.
        let ycrcb = planes.ycrcbUnit()
        let chroma = ycrcb.cr.map { FloatPlane(width: w, height: h, values: $0) }
        let chromaBlue = ycrcb.cb.map { FloatPlane(width: w, height: h, values: $0) }
        let interpolation = upscaler.options.chroma
        try upscaler.runNetworkBands(
            NetworkInput(FeatureMapShape(height: h, width: w, channels: 1), values: ycrcb.y), progress: progress,
            shouldCancel: shouldCancel
        ) { firstRow, band throws(PipelineError) in
            let rows = band.shape[1]
            guard let chroma, let chromaBlue else {
                try onBand(firstRow, rows, .greyUnit(band.scalars))
                return
            }
            if shouldCancel() { throw .cancelled }
            // The rows of Cr and Cb enlarged as `cv::resize` of the whole plane gives them.
            func enlarge(_ plane: FloatPlane) -> [Float] {
                let range = firstRow..<(firstRow + rows)
                switch interpolation {
                case .bilinear: return Resize.openCVLinear(plane, toWidth: w * s, toHeight: h * s, rows: range).values
                case .bicubic: return Resize.openCVCubic(plane, toWidth: w * s, toHeight: h * s, rows: range).values
                }
            }
            try onBand(firstRow, rows, .ycrcbUnit(y: band.scalars, cr: enlarge(chroma), cb: enlarge(chromaBlue)))
        }
    }
}
