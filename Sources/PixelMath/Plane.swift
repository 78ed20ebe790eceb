/// One channel of an image, row-major: `FloatPlane` for colour conversion and resizing, Evaluation's `LumaPlane` for
/// the quality metrics.
package struct Plane<Sample: Sendable & Equatable>: Sendable, Equatable {
    /// Samples per row.
    package let width: Int
    /// Number of rows.
    package let height: Int
    /// `width * height` samples, row by row; sample (x, y) is at `y * width + x`.
    package var values: [Sample]

    /// A plane over the given samples; `values.count` must be `width * height`.
    package init(width: Int, height: Int, values: [Sample]) {
        precondition(width >= 0 && height >= 0, "negative plane size \(width)×\(height)")
        precondition(values.count == width * height, "\(values.count) samples for a \(width)×\(height) plane")
        self.width = width
        self.height = height
        self.values = values
    }

    /// A plane with every sample set to `value`.
    package init(width: Int, height: Int, repeating value: Sample) {
        self.init(width: width, height: height, values: [Sample](repeating: value, count: width * height))
    }

    /// Number of samples, `width * height`.
    package var count: Int { values.count }

    /// The sample in column `x`, row `y`.
    package subscript(x x: Int, y y: Int) -> Sample {
        get {
            precondition(x >= 0 && x < width && y >= 0 && y < height, "(\(x), \(y)) outside \(width)×\(height)")
            return values[y * width + x]
        }
        set {
            precondition(x >= 0 && x < width && y >= 0 && y < height, "(\(x), \(y)) outside \(width)×\(height)")
            values[y * width + x] = newValue
        }
    }

    /// The plane without `border` pixels on each side.
    package func removingBorder(_ border: Int) -> Plane {
        precondition(border >= 0, "negative border \(border)")
        let w = width - 2 * border
        let h = height - 2 * border
        precondition(w > 0 && h > 0, "a border of \(border) leaves nothing of a \(width)×\(height) plane")
        if border == 0 { return self }
        var out = [Sample]()
        out.reserveCapacity(w * h)
        for y in border..<(height - border) {
            let start = y * width + border
            out.append(contentsOf: values[start..<(start + w)])
        }
        return Plane(width: w, height: h, values: out)
    }
}

/// One channel as 32-bit floats: the unit that colour conversion and resizing work on.
package typealias FloatPlane = Plane<Float>
