import Engine
import Imaging
import Models

/// Why an upscale did not produce an image.
package enum PipelineError: Error, CustomStringConvertible, Sendable {
    /// The caller asked to stop (between tiles).
    case cancelled
    /// The image cannot go through this model (e.g. too small for the network).
    case unsupportedImage(String)
    /// The network failed on this input.
    case network(GraphError)

    /// The error in words: "cancelled", the unsupported-image message, or "network: " and the graph error.
    package var description: String {
        switch self {
        case .cancelled: "cancelled"
        case .unsupportedImage(let message): message
        case .network(let error): "network: \(error)"
        }
    }
}
