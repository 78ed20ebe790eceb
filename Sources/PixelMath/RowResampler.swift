// `Resize.resample` for a plane whose rows arrive a band at a time (a streamed picture): each output row is given as
// soon as the source rows it reads have arrived, and only those rows are kept. Every output value is computed with
// the same contributions, in the same order, as the whole-plane resample, so the rows are bit for bit the same.

/// Resamples a `from` plane to `to` with `filter` as its rows arrive in order, holding only a few rows.
package struct RowResampler: Sendable {
    /// The source plane's size.
    package let source: (width: Int, height: Int)
    /// The output plane's size.
    package let target: (width: Int, height: Int)
    /// Down the columns first (MATLAB's order: the smaller scale first, rows first on ties).
    private let verticalFirst: Bool
    private let vertical: Resize.MatlabContributions?
    private let verticalWeights: [Float]
    private let horizontal: Resize.MatlabContributions?
    private let horizontalWeights: [Float]
    /// For each output row, the lowest source row it or any later output row reads.
    private let lowestRowStillNeeded: [Int]
    /// The source rows kept (resampled across already when the horizontal pass comes first), from `windowStart` on.
    private var window: [Float] = []
    private var windowStart = 0
    /// Source rows received so far.
    private var received = 0
    /// Output rows given so far.
    private var emitted = 0

    /// A resampler from `width × height` to `toWidth × toHeight` with `filter`, as `Resize.resample` does it.
    package init(width: Int, height: Int, toWidth: Int, toHeight: Int, filter: ResizeFilter) {
        precondition(width > 0 && height > 0 && toWidth > 0 && toHeight > 0, "empty resample")
        source = (width, height)
        target = (toWidth, toHeight)
        let scaleX = Double(toWidth) / Double(width)
        let scaleY = Double(toHeight) / Double(height)
        verticalFirst = scaleY <= scaleX
        if toHeight != height {
            let c = Resize.matlabContributions(inLength: height, outLength: toHeight, scale: scaleY, kernel: filter.kernel)
            vertical = c
            verticalWeights = c.weights.map(Float.init)
            var lowest = [Int](repeating: 0, count: toHeight)
            var running = Int.max
            for j in stride(from: toHeight - 1, through: 0, by: -1) {
                running = min(running, c.indices[(j * c.taps)..<((j + 1) * c.taps)].min()!)
                lowest[j] = running
            }
            lowestRowStillNeeded = lowest
        } else {
            vertical = nil
            verticalWeights = []
            lowestRowStillNeeded = Array(0..<toHeight)
        }
        if toWidth != width {
            let c = Resize.matlabContributions(inLength: width, outLength: toWidth, scale: scaleX, kernel: filter.kernel)
            horizontal = c
            horizontalWeights = c.weights.map(Float.init)
        } else {
            horizontal = nil
            horizontalWeights = []
        }
    }

    /// Whether every output row has been given.
    package var isFinished: Bool { emitted == target.height }

    /// Takes the next source rows (`values.count` a multiple of the source width) and returns the output rows that
    /// became complete, `target.width` values each.
    package mutating func push(_ values: [Float]) -> [Float] {
        precondition(values.count % source.width == 0, "\(values.count) values are not whole rows")
        let rows = values.count / source.width
        precondition(received + rows <= source.height, "more rows than the source has")
        // The rows as they are kept: across first when that pass comes first.
        let kept = verticalFirst ? values : acrossRows(values, rows: rows)
        window.append(contentsOf: kept)
        received += rows
        let keptWidth = verticalFirst ? source.width : target.width

        var out: [Float] = []
        while emitted < target.height, let needed = lastRowRead(by: emitted), needed < received {
            let row = downColumn(emitted, keptWidth: keptWidth)
            out.append(contentsOf: verticalFirst ? acrossRows(row, rows: 1) : row)
            emitted += 1
        }
        // Drop the rows no later output reads.
        if emitted < target.height {
            let drop = lowestRowStillNeeded[emitted] - windowStart
            if drop > 0 {
                window.removeFirst(drop * keptWidth)
                windowStart += drop
            }
        } else {
            window = []
        }
        return out
    }

    /// The highest source row output row `j` reads.
    private func lastRowRead(by j: Int) -> Int? {
        guard let vertical else { return j }
        return vertical.indices[(j * vertical.taps)..<((j + 1) * vertical.taps)].max()
    }

    /// Output row `j` of the vertical pass from the kept rows (the kept row itself when the height stays).
    private func downColumn(_ j: Int, keptWidth: Int) -> [Float] {
        guard let vertical else {
            let start = (j - windowStart) * keptWidth
            return Array(window[start..<(start + keptWidth)])
        }
        // As Resize.resizeAxis down the columns: zero, then each tap's weighted row added in tap order.
        var row = [Float](repeating: 0, count: keptWidth)
        for k in 0..<vertical.taps {
            let w = verticalWeights[j * vertical.taps + k]
            let start = (vertical.indices[j * vertical.taps + k] - windowStart) * keptWidth
            for x in 0..<keptWidth { row[x] += w * window[start + x] }
        }
        return row
    }

    /// `rows` rows of the source width resampled across (as they are when the width stays).
    private func acrossRows(_ values: [Float], rows: Int) -> [Float] {
        guard let horizontal else { return values }
        return Resize.resizeAxis(
            values, width: source.width, height: rows, vertical: false, horizontal, weights: horizontalWeights)
    }
}
