import Imaging

/// How the low-resolution input is made from the high-resolution image.
package enum LowResolutionKernel: String, Sendable, CaseIterable, Codable {
    /// MATLAB `imresize(hr, 1/scale, 'bicubic')`: antialiased Keys cubic (a = -0.5) per channel in Double, then
    /// MATLAB's `uint8` rounding. The standard protocol.
    case matlab
    /// OpenCV `cv::resize(hr, Size(w/scale, h/scale), 0, 0, INTER_CUBIC)` on 8-bit data: Keys cubic (a = -0.75)
    /// without antialiasing. At an integer scale every tap falls at fraction 0 or 1/2, so the float result is exact
    /// and rounding it half to even gives cv2's pixels (checked: identical on Set14 and BSD68 at ×2, ×3, ×4).
    case openCVCubic = "opencv-cubic"
}

/// The image side of the protocol: crop, degrade, and the bicubic baseline.
package enum Degradation {
    /// `image` as the protocol takes it: 8-bit grey or RGB (alpha dropped); 16-bit images are refused.
    package static func prepared(_ image: PixelImage, source: String) throws(EvaluationError) -> PixelImage {
        guard case .uint8(let samples) = image.samples else {
            throw EvaluationError(
                .unsupportedImage,
                source: source,
                message: "\(image.bitDepth)-bit samples; the protocol works on 8-bit images"
            )
        }
        switch image.layout {
        case .grey, .rgb: return image
        case .greyAlpha, .rgba:
            let channels = image.layout.channelCount
            let kept = channels - 1
            var colour = [UInt8]()
            colour.reserveCapacity(image.pixelCount * kept)
            for p in 0..<image.pixelCount {
                colour.append(contentsOf: samples[(p * channels)..<(p * channels + kept)])
            }
            return PixelImage(
                width: image.width,
                height: image.height,
                layout: image.layout == .rgba ? .rgb : .grey,
                uint8: colour
            )
        }
    }

    /// The top-left `width - width % scale` × `height - height % scale` pixels (MATLAB's `modcrop`).
    package static func cropToMultiple(
        _ image: PixelImage,
        of scale: Int,
        source: String = "image"
    ) throws(EvaluationError) -> PixelImage {
        precondition(scale >= 1, "scale \(scale) is not positive")
        let w = image.width - image.width % scale
        let h = image.height - image.height % scale
        guard w > 0 && h > 0 else {
            throw EvaluationError(
                .unsupportedImage,
                source: source,
                message: "\(image.width)×\(image.height) is smaller than the scale \(scale)"
            )
        }
        if w == image.width && h == image.height { return image }
        let channels = image.layout.channelCount
        // The first w pixels of each of the first h rows.
        func topLeft<Sample>(_ samples: [Sample]) -> [Sample] {
            var out = [Sample]()
            out.reserveCapacity(w * h * channels)
            for y in 0..<h {
                let start = y * image.width * channels
                out.append(contentsOf: samples[start..<(start + w * channels)])
            }
            return out
        }
        switch image.samples {
        case .uint8(let samples):
            return PixelImage(width: w, height: h, layout: image.layout, uint8: topLeft(samples))
        case .uint16(let samples):
            return PixelImage(width: w, height: h, layout: image.layout, uint16: topLeft(samples))
        }
    }

    /// The low-resolution input: `hr` (8-bit grey or RGB, a multiple of `scale` on each side) shrunk by `scale`.
    package static func downscale(_ hr: PixelImage, scale: Int, kernel: LowResolutionKernel = .matlab) -> PixelImage {
        precondition(
            hr.width % scale == 0 && hr.height % scale == 0,
            "crop \(hr.width)×\(hr.height) to a multiple of \(scale) first"
        )
        let (w, h) = (hr.width / scale, hr.height / scale)
        return mapChannels(hr, toWidth: w, toHeight: h) { plane in
            switch kernel {
            case .matlab:
                let values = Resize.matlabBicubic(plane, width: hr.width, height: hr.height, toWidth: w, toHeight: h)
                return Resize.matlabUInt8(values)
            case .openCVCubic:
                let floats = FloatPlane(width: hr.width, height: hr.height, values: plane.map(Float.init))
                return Resize.openCVCubic(floats, toWidth: w, toHeight: h).values.map { value in
                    // cv2 rounds exact halves to even (cvRound), then saturates.
                    let rounded = value.rounded(.toNearestOrEven)
                    return rounded <= 0 ? 0 : rounded >= 255 ? 255 : UInt8(rounded)
                }
            }
        }
    }

    /// The bicubic baseline: MATLAB `imresize(lr, scale, 'bicubic')` per channel in Double, rounded to `uint8`.
    package static func bicubicUpscale(_ lr: PixelImage, scale: Int) -> PixelImage {
        let (w, h) = (lr.width * scale, lr.height * scale)
        return mapChannels(lr, toWidth: w, toHeight: h) { plane in
            Resize.matlabUInt8(Resize.matlabBicubic(plane, width: lr.width, height: lr.height, toWidth: w, toHeight: h))
        }
    }

    /// Applies `resize` to each channel of an 8-bit image (as Doubles) and interleaves the results.
    static func mapChannels(
        _ image: PixelImage,
        toWidth: Int,
        toHeight: Int,
        _ resize: ([Double]) -> [UInt8]
    ) -> PixelImage {
        guard case .uint8(let samples) = image.samples else {
            preconditionFailure("the protocol works on 8-bit images; \(image.bitDepth)-bit given")
        }
        let channels = image.layout.channelCount
        var out = [UInt8](repeating: 0, count: toWidth * toHeight * channels)
        for c in 0..<channels {
            let plane = (0..<image.pixelCount).map { Double(samples[$0 * channels + c]) }
            let resized = resize(plane)
            precondition(resized.count == toWidth * toHeight, "resize gave \(resized.count) samples")
            for p in 0..<resized.count { out[p * channels + c] = resized[p] }
        }
        return PixelImage(width: toWidth, height: toHeight, layout: image.layout, uint8: out)
    }
}
