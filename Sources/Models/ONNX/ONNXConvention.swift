/// How an ONNX network wants its pixels: the value range and channel order of its input and output. The common
/// convention (chaiNNer, spandrel, Real-ESRGAN's exports) is RGB in [0, 1]; some exports take 0–255 or BGR (OpenCV
/// habits). ONNX files do not say, so it can be stated (`--input-range`, `--channels`, or once with `models add`).
package struct ONNXConvention: Sendable, Equatable, Codable {
    /// The values the network takes and gives for black to white.
    package enum Range: String, Sendable, Codable, CaseIterable {
        /// 0 to 1.
        case unit = "0-1"
        /// 0 to 255.
        case byte = "0-255"
    }

    /// The order of the three colour channels.
    package enum Channels: String, Sendable, Codable, CaseIterable {
        case rgb, bgr
    }

    /// The input's (and output's) value range.
    package var range: Range = .unit
    /// The input's (and output's) channel order.
    package var channels: Channels = .rgb

    /// RGB in [0, 1].
    package static let standard = ONNXConvention()

    /// A convention with this range and channel order.
    package init(range: Range = .unit, channels: Channels = .rgb) {
        self.range = range
        self.channels = channels
    }
}
