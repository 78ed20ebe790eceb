// ESPCN, FSRCNN and LapSRN as OpenCV's dnn_superres feeds them: 8-bit BGR to YCrCb (OpenCV's integer arithmetic),
// Y/255 through the network, Cr and Cb enlarged by `cv::resize`, merged, ×255 to 8 bits, back to BGR.

import Imaging
import Tensor

/// The Y-channel families (ESPCN, FSRCNN, LapSRN): the network sees luma only; chroma is interpolated.
struct LumaProcessing: FamilyProcessing {
    func enlarge(
        _ planes: ImagePlanes, with upscaler: Upscaler, progress: (Int, Int) -> Void, shouldCancel: () -> Bool
    ) throws(PipelineError) -> ImagePlanes.Colour {
        let (w, h, s) = (planes.width, planes.height, upscaler.model.scale)
        let ycrcb = planes.ycrcbUnit()
        let output = try upscaler.runNetwork(
            Tensor(shape: [1, h, w, 1], scalars: ycrcb.y), progress: progress, shouldCancel: shouldCancel)
        guard let cr = ycrcb.cr, let cb = ycrcb.cb else { return .greyUnit(output.scalars) }
        if shouldCancel() { throw .cancelled }
        let enlarge: (FloatPlane) -> FloatPlane
        switch upscaler.options.chroma {
        case .bilinear: enlarge = { Resize.openCVLinear($0, toWidth: w * s, toHeight: h * s) }
        case .bicubic: enlarge = { Resize.openCVCubic($0, toWidth: w * s, toHeight: h * s) }
        }
        let enlargedCr = enlarge(FloatPlane(width: w, height: h, values: cr)).values
        if shouldCancel() { throw .cancelled }
        return .ycrcbUnit(
            y: output.scalars, cr: enlargedCr, cb: enlarge(FloatPlane(width: w, height: h, values: cb)).values)
    }
}
