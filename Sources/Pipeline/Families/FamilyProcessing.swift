import Models

/// What one model family does around its network, as its reference program does: the picture into the network's
/// input, the network's output back into colour. One value per family, chosen once when the upscaler is made; a new
/// family adds a file here and a line in `ModelFamily.processing`.
protocol FamilyProcessing: Sendable {
    /// The enlarged colour of `planes` (alpha is enlarged by the upscaler), running `upscaler`'s network, handed
    /// over in bands of full-width rows, top to bottom: `onBand(firstRow, rows, colour)`. Only a band of the output
    /// is held at a time.
    func enlargeBands(
        _ planes: ImagePlanes, with upscaler: Upscaler, progress: (Int, Int) -> Void, shouldCancel: () -> Bool,
        onBand: (_ firstRow: Int, _ rows: Int, _ colour: ImagePlanes.Colour) throws(PipelineError) -> Void
    ) throws(PipelineError)

    /// Whether `model` takes a noise level as an input (SRMD; not SRMD-NF).
    func takesNoiseLevel(_ model: SuperResolutionModel) -> Bool
}

extension FamilyProcessing {
    func takesNoiseLevel(_ model: SuperResolutionModel) -> Bool { false }

    /// Throws when `upscaler` was given a noise level, which the family `name` does not take.
    func refuseNoiseLevel(_ upscaler: Upscaler, family name: String) throws(PipelineError) {
        if let level = upscaler.options.noiseLevel {
            throw .unsupportedImage("\(name) takes no noise level (got \(level)); --noise is for SRMD models")
        }
    }

    /// The whole enlarged colour of `planes`: its bands put together.
    func enlarge(
        _ planes: ImagePlanes, with upscaler: Upscaler, progress: (Int, Int) -> Void, shouldCancel: () -> Bool
    ) throws(PipelineError) -> ImagePlanes.Colour {
        var bands: [ImagePlanes.Colour] = []
        try enlargeBands(planes, with: upscaler, progress: progress, shouldCancel: shouldCancel) {
            _, _, band throws(PipelineError) in
            bands.append(band)
        }
        guard let whole = ImagePlanes.Colour.joined(bands) else {
            throw .unsupportedImage("the network gave no output")
        }
        return whole
    }
}

extension ModelFamily {
    /// How the pipeline feeds this family's networks.
    var processing: any FamilyProcessing {
        switch self {
        case .edsr: EDSRProcessing()
        case .espcn, .fsrcnn, .lapsrn: LumaProcessing()
        case .srmd: SRMDProcessing()
        case .realesrgan: RealESRGANProcessing()
        case .span: RealESRGANProcessing(name: "SPAN")
        case .realcugan: RealCUGANProcessing()
        case .onnx: RealESRGANProcessing(name: "ONNX")
        }
    }
}
