// Colour conversion to sRGB through lcms2 (via CImageShims): `--colour srgb` before the network, and CMYK JPEGs
// through their profile (or a stated one) instead of the plain formula.
import CImageShims

/// What is done with an input's colours.
package enum ColourMode: String, Sendable, Hashable, CaseIterable {
    /// The network runs on the stored values and the result carries the input's profile (the default).
    case keep
    /// The pixels are converted from the input's profile to sRGB first and the result is tagged sRGB.
    case srgb
}

/// How decoding treats colour.
package struct ColourPolicy: Sendable, Hashable {
    /// Keep the stored values, or convert to sRGB.
    package var mode: ColourMode
    /// The CMYK profile for CMYK JPEGs that carry none (without it they are converted by the plain formula).
    package var cmykProfile: ICCProfile?

    /// A policy (by default: keep, no CMYK profile).
    package init(mode: ColourMode = .keep, cmykProfile: ICCProfile? = nil) {
        self.mode = mode
        self.cmykProfile = cmykProfile
    }
}

/// An lcms2 transform from an ICC profile to sRGB; freed in deinit.
final class ColourTransform {
    let handle: OpaquePointer

    /// A transform from `profile` in `input` layout to sRGB in `output` layout, or lcms2's reason why not.
    init(profile: ICCProfile, input: superres_pixel_format, output: superres_pixel_format) throws(ColourFailure) {
        var message = [CChar](repeating: 0, count: Int(SUPERRES_MESSAGE_SIZE))
        let made = profile.bytes.withUnsafeBufferPointer {
            superres_colour_transform_create($0.baseAddress, $0.count, input, output, &message, message.count)
        }
        guard let made else { throw ColourFailure(reason: ImageCodec.message(from: message)) }
        handle = made
    }

    deinit { superres_colour_transform_destroy(handle) }

    /// Converts `samples` in place (input and output layouts of the same size).
    func apply<Sample>(_ samples: inout [Sample], pixels: Int) {
        samples.withUnsafeMutableBytes {
            superres_colour_transform_apply(handle, $0.baseAddress, $0.baseAddress, pixels)
        }
    }
}

/// Why lcms2 could not make a transform.
struct ColourFailure: Error {
    let reason: String
}

extension ICCProfile {
    /// lcms2's sRGB profile, for results converted to sRGB.
    package static let sRGB = makeSRGB(grey: false)
    /// A grey profile with sRGB's tone curve, for grey results converted to sRGB.
    package static let greySRGB = makeSRGB(grey: true)

    private static func makeSRGB(grey: Bool) -> ICCProfile? {
        var output = superres_buffer()
        defer { superres_buffer_free(&output) }
        guard superres_srgb_profile(grey ? 1 : 0, &output) == .ok, let data = output.data else { return nil }
        return ICCProfile(Array(UnsafeBufferPointer(start: data, count: output.size)))
    }

    /// Whether lcms2 can convert from this profile to sRGB for pixels of `layout` (or CMYK).
    package func converts(cmyk: Bool = false, layout: PixelLayout = .rgb) -> Bool {
        let input: superres_pixel_format = cmyk ? .cmyk8 : ImageCodec.pixelFormat(layout, bitDepth: 8)
        let output: superres_pixel_format = cmyk ? .rgb8 : input
        return (try? ColourTransform(profile: self, input: input, output: output)) != nil
    }
}

extension ImageCodec {
    /// The lcms2 layout of `layout` at `bitDepth`.
    static func pixelFormat(_ layout: PixelLayout, bitDepth: Int) -> superres_pixel_format {
        switch (layout, bitDepth) {
        case (.grey, 8): .grey8
        case (.greyAlpha, 8): .greyAlpha8
        case (.rgb, 8): .rgb8
        case (.rgba, 8): .rgba8
        case (.grey, _): .grey16
        case (.greyAlpha, _): .greyAlpha16
        case (.rgb, _): .rgb16
        case (.rgba, _): .rgba16
        }
    }

    /// `image` converted from `profile` to sRGB (grey stays grey, on sRGB's tone curve; alpha is kept), perceptual
    /// intent as lcms2's own tools; a `.colourProfile` error when lcms2 cannot use the profile for these pixels.
    package static func convertToSRGB(
        _ image: PixelImage,
        from profile: ICCProfile,
        source: String
    ) throws(ImagingError) -> PixelImage {
        let format = pixelFormat(image.layout, bitDepth: image.bitDepth)
        let transform: ColourTransform
        do {
            transform = try ColourTransform(profile: profile, input: format, output: format)
        } catch {
            throw ImagingError(
                .colourProfile,
                source: source,
                message: "the colour profile \"\(profile.displayName)\" cannot be converted to sRGB (lcms2: "
                    + "\(error.reason)); use --colour keep to keep the stored values"
            )
        }
        var converted = image
        switch image.samples {
        case .uint8(var samples):
            transform.apply(&samples, pixels: image.pixelCount)
            converted.samples = .uint8(samples)
        case .uint16(var samples):
            transform.apply(&samples, pixels: image.pixelCount)
            converted.samples = .uint16(samples)
        }
        return converted
    }
}
