/// One channel of an image as 32-bit floats, row-major: the unit that colour conversion and resizing work on.
package struct FloatPlane: Sendable, Equatable {
    /// Samples per row.
    package let width: Int
    /// Number of rows.
    package let height: Int
    /// `width * height` samples, row by row; sample (x, y) is at `y * width + x`.
    package var values: [Float]

    /// A plane over the given samples; `values.count` must be `width * height`.
    package init(width: Int, height: Int, values: [Float]) {
        precondition(width >= 0 && height >= 0, "negative plane size \(width)×\(height)")
        precondition(values.count == width * height, "\(values.count) samples for a \(width)×\(height) plane")
        self.width = width
        self.height = height
        self.values = values
    }

    /// A plane with every sample set to `value`.
    package init(width: Int, height: Int, repeating value: Float) {
        self.init(width: width, height: height, values: [Float](repeating: value, count: width * height))
    }

    /// Number of samples, `width * height`.
    package var count: Int { values.count }

    /// The sample in column `x`, row `y`.
    package subscript(x x: Int, y y: Int) -> Float {
        get {
            precondition(x >= 0 && x < width && y >= 0 && y < height, "(\(x), \(y)) outside \(width)×\(height)")
            return values[y * width + x]
        }
        set {
            precondition(x >= 0 && x < width && y >= 0 && y < height, "(\(x), \(y)) outside \(width)×\(height)")
            values[y * width + x] = newValue
        }
    }
}
