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
        // Y a tile at a time; Cr and Cb of the rows each output band reads.
        let input = NetworkInput(
            width: w, height: h, channels: 1,
            prepare: { y, height throws(PipelineError) in try planes.loadNetworkRows(y..<(y + height)) }
        ) { x, y, width, height in
            planes.ycrcbUnit(x: x, y: y, width: width, height: height).y
        }
        let interpolation = upscaler.options.chroma
        try upscaler.runNetworkBands(input, progress: progress, shouldCancel: shouldCancel) {
            firstRow, band throws(PipelineError) in
            let rows = band.shape[1]
            if planes.isGrey {
                try onBand(firstRow, rows, .greyUnit(band.scalars))
                return
            }
            if shouldCancel() { throw .cancelled }
            // The rows of Cr and Cb enlarged as `cv::resize` of the whole plane gives them.
            let range = firstRow..<(firstRow + rows)
            let source = Resize.sourceRows(for: range, from: h, to: h * s)
            try planes.rows.load(source, for: .chroma)
            let ycrcb = planes.ycrcbUnit(x: 0, y: source.lowerBound, width: w, height: source.count)
            let part = PlanePart(firstRow: source.lowerBound, wholeHeight: h)
            func enlarge(_ values: [Float]?) -> [Float] {
                let plane = FloatPlane(width: w, height: source.count, values: values ?? [])
                switch interpolation {
                case .bilinear:
                    return Resize.openCVLinear(plane, toWidth: w * s, toHeight: h * s, rows: range, part: part).values
                case .bicubic:
                    return Resize.openCVCubic(plane, toWidth: w * s, toHeight: h * s, rows: range, part: part).values
                }
            }
            try onBand(firstRow, rows, .ycrcbUnit(y: band.scalars, cr: enlarge(ycrcb.cr), cb: enlarge(ycrcb.cb)))
        }
    }
}
