// The input picture's rows as the networks and the assembly read them. A decoded picture is held whole; a file too
// large for that is decoded a band of rows at a time (`StreamedInput`) into a window that moves down the picture:
// each reader says which rows it needs next, and rows no reader needs any more are dropped, so the window follows
// the bands (plus the networks' margins) and memory follows the picture's width, not its height.
import Imaging

/// The rows of one picture: all of a decoded picture, or a window over a file decoded a band at a time.
final class PictureRows {
    /// The parts of the pipeline that read rows, each moving down the picture at its own pace.
    enum Reader: CaseIterable {
        /// The network's input, built a tile at a time.
        case network
        /// A Y-only model's Cr and Cb, enlarged for each band of the network's result.
        case chroma
        /// The alpha plane, enlarged as the output rows are made (behind the network's rows when the result is
        /// shrunk).
        case alpha
    }

    /// The picture's size and layout.
    let shape: PixelShape
    /// The first row held.
    private(set) var first = 0
    /// Rows held, from `first`.
    private(set) var count: Int
    /// Interleaved samples of the rows held (8-bit pictures).
    private(set) var samples8: [UInt8]
    /// Interleaved samples of the rows held (16-bit pictures).
    private(set) var samples16: [UInt16]
    /// The file decoded a band at a time; nil when the picture is held whole.
    private let input: StreamedInput?
    private var reader: StreamingImageReader?
    /// The first row each reader asked for last: rows above all of them are dropped.
    private var lowest: [Reader: Int] = [:]
    /// How many times a reader asked for rows already dropped and the file was decoded again from the top.
    private(set) var restarts = 0
    /// The most rows held at once.
    private(set) var mostHeld = 0

    /// All of `image`'s rows.
    init(_ image: PixelImage) {
        shape = image.shape
        count = image.height
        input = nil
        switch image.samples {
        case .uint8(let values):
            samples8 = values
            samples16 = []
        case .uint16(let values):
            samples8 = []
            samples16 = values
        }
    }

    /// The rows of `input`, decoded as they are asked for.
    init(streaming input: StreamedInput) {
        shape = input.shape
        count = 0
        samples8 = []
        samples16 = []
        self.input = input
    }

    /// Samples per row.
    var rowSamples: Int { shape.width * shape.layout.channelCount }

    /// Makes the rows `range` (within the picture) held for `reader`, decoding down to them, and drops the rows
    /// above every reader's latest request. Errors are the file's (`PipelineError.input`).
    func load(_ range: Range<Int>, for reader: Reader) throws(PipelineError) {
        guard let input, !range.isEmpty else { return }
        lowest[reader] = range.lowerBound
        if range.lowerBound < first {
            // Rows already dropped: start again from the top (never happens with the bands' order of requests).
            restarts += 1
            self.reader = nil
            first = 0
            count = 0
            samples8 = []
            samples16 = []
        }
        if self.reader == nil && first + count == 0 {
            do throws(ImagingError) { self.reader = try input.open() } catch { throw .input(error) }
        }
        // Rows no reader needs any more go first, so that the window never holds more than the requests span.
        let keep = lowest.values.min() ?? range.lowerBound
        drop(below: min(keep, first + count))
        // Decode in steps of at least 16 rows; a step does not go past the picture.
        while first + count < range.upperBound, let streaming = self.reader {
            let wanted = max(range.upperBound - (first + count), 16)
            let band: PixelImage?
            do throws(ImagingError) { band = try streaming.readRows(wanted) } catch { throw .input(error) }
            guard let band else {
                throw .input(ImagingError(.truncated, source: input.source, message: "the picture ends early"))
            }
            if first + count < keep {
                // The whole band is above what is kept (a reader skipped down the picture).
                let skipped = min(band.height, keep - (first + count))
                first += skipped
                append(band, droppingRows: skipped)
            } else {
                append(band, droppingRows: 0)
            }
            mostHeld = max(mostHeld, count)
        }
    }

    /// Appends `band`'s rows after its first `skip`.
    private func append(_ band: PixelImage, droppingRows skip: Int) {
        let from = skip * rowSamples
        switch band.samples {
        case .uint8(let values): samples8 += values[from...]
        case .uint16(let values): samples16 += values[from...]
        }
        count += band.height - skip
    }

    /// Drops the rows above `row`.
    private func drop(below row: Int) {
        let rows = min(max(row - first, 0), count)
        guard rows > 0 else { return }
        if shape.bitDepth == 8 {
            samples8.removeFirst(rows * rowSamples)
        } else {
            samples16.removeFirst(rows * rowSamples)
        }
        first += rows
        count -= rows
    }

    /// The index in `samples8`/`samples16` of sample 0 of pixel (`column`, `row`), which must be held.
    @inline(__always)
    func index(column: Int, row: Int) -> Int {
        ((row - first) * shape.width + column) * shape.layout.channelCount
    }

    /// Traps unless rows `range` are held (the families load before they read: a mistake here, never the input's).
    func checkHeld(_ range: Range<Int>) {
        precondition(
            range.isEmpty || (range.lowerBound >= first && range.upperBound <= first + count),
            "rows \(range) read while \(first)..<\(first + count) are held")
    }

    /// Every row's samples, decoding the whole file if the picture is streamed (self-ensemble turns the whole
    /// picture).
    func whole() throws(PipelineError) -> PixelImage {
        try load(0..<shape.height, for: .network)
        return shape.bitDepth == 8
            ? PixelImage(width: shape.width, height: shape.height, layout: shape.layout, uint8: samples8)
            : PixelImage(width: shape.width, height: shape.height, layout: shape.layout, uint16: samples16)
    }
}
