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
    /// The output size asked for cannot be made from this input (smaller than it, more than ×16, not a number).
    case badSize(String)
    /// A model the chosen route needs could not be loaded.
    case model(ModelError)
    /// The input file failed while it was being decoded a band at a time (cut short, corrupt, changed).
    case input(ImagingError)

    /// The error in words: "cancelled", the unsupported-image message, or "network: " and the graph error.
    package var description: String {
        switch self {
        case .cancelled: "cancelled"
        case .unsupportedImage(let message): message
        case .network(let error): "network: \(error)"
        case .badSize(let message): message
        case .model(let error): "model \(error)"
        case .input(let error): error.message
        }
    }
}
