/// The network families superres knows, each fed with its own pre- and post-processing.
package enum ModelFamily: String, Sendable, CaseIterable, Codable {
    /// EDSR: BGR minus the DIV2K mean in, BGR out.
    case edsr
    /// ESPCN: the Y channel of YCrCb in [0, 1].
    case espcn
    /// FSRCNN and FSRCNN-small: the Y channel.
    case fsrcnn
    /// LapSRN: the Y channel, several outputs (the full-scale one is used).
    case lapsrn
    /// SRMD and SRMD-NF (ncnn): RGB in [0, 1] plus 15 degradation maps (and SRMD's noise-level map), RGB out.
    case srmd
    /// Real-ESRGAN (ncnn): RGB in [0, 1] in and out.
    case realesrgan
    /// Real-CUGAN (ncnn; bilibili's anime U-Nets): RGB in [0, 1] in and out, mirrored padding, squeeze-and-excitation
    /// means taken over the whole picture.
    case realcugan
    /// SPAN (ncnn; Wan et al., NTIRE 2024 efficient SR): RGB in [0, 1] in and out, the mean subtracted in the graph.
    case span
    /// A network read from an ONNX file (any architecture): RGB in [0, 1] in and out, as chaiNNer and spandrel feed
    /// PyTorch super-resolution models.
    case onnx

    /// Whether the network sees only the Y channel (the chroma is enlarged by interpolation).
    package var usesLumaOnly: Bool { self == .espcn || self == .fsrcnn || self == .lapsrn }

    /// Whether the family's networks come as ncnn `.param`/`.bin` pairs rather than TensorFlow `.pb` files.
    package var isNCNN: Bool { self == .srmd || self == .realesrgan || self == .realcugan || self == .span }
}
