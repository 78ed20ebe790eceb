import Imaging

/// An input picture as the network gets it: decoded whole, or a file read a band of rows at a time as the network
/// reaches them (a result made in bands from a PNG, JPEG or TIFF file).
package enum InputPicture: Sendable {
    /// The decoded pixels.
    case decoded(PixelImage)
    /// The file, decoded a band of rows at a time.
    case streamed(StreamedInput)

    /// The picture's size and layout.
    package var shape: PixelShape {
        switch self {
        case .decoded(let image): image.shape
        case .streamed(let input): input.shape
        }
    }
}
