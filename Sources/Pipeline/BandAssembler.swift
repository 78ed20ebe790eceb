import Imaging

/// Turns a family's colour bands (at the network's size) into bands of the output picture, top to bottom: shrunk to
/// the size asked for as the rows they need arrive (the same values as shrinking the whole result), alpha enlarged
/// for the same rows, rounded and interleaved in the picture's layout.
struct BandAssembler {
    private let planes: ImagePlanes
    private let natural: PixelSize
    private let target: PixelSize
    private let filter: ResizeFilter
    private let upscaler: Upscaler
    /// One per colour plane when the output is smaller than the network's result (made with the first band).
    private var resamplers: [RowResampler] = []
    /// Output rows handed over so far.
    private var emitted = 0

    /// An assembler of the output of `planes` at `target`, from the network's result of size `natural`.
    init(planes: ImagePlanes, natural: PixelSize, target: PixelSize, filter: ResizeFilter, upscaler: Upscaler) {
        self.planes = planes
        self.natural = natural
        self.target = target
        self.filter = filter
        self.upscaler = upscaler
    }

    /// Takes the next `rows` rows of the network's result and hands over the output rows they complete
    /// (`onRows(firstRow, band)`).
    mutating func add(
        _ colour: ImagePlanes.Colour, rows: Int,
        onRows: (_ firstRow: Int, _ band: PixelImage) throws(PipelineError) -> Void
    ) throws(PipelineError) {
        var colour = colour
        var rows = rows
        if natural != target {
            let planes = colour.planes
            if resamplers.isEmpty {
                resamplers = planes.map { _ in
                    RowResampler(
                        width: natural.width, height: natural.height, toWidth: target.width, toHeight: target.height,
                        filter: filter)
                }
            }
            precondition(planes.count == resamplers.count, "a band with \(planes.count) planes")
            var shrunk: [[Float]] = []
            for index in planes.indices { shrunk.append(resamplers[index].push(planes[index])) }
            rows = shrunk[0].count / target.width
            colour = colour.withPlanes(shrunk)
        }
        guard rows > 0 else { return }
        let range = emitted..<(emitted + rows)
        var alpha: FloatPlane?
        if planes.hasAlpha {
            let source = Resize.sourceRows(for: range, from: planes.height, to: target.height)
            alpha = upscaler.enlargeAlpha(
                try planes.alphaPlane(rows: source), to: target, rows: range,
                part: PlanePart(firstRow: source.lowerBound, wholeHeight: planes.height), bitDepth: planes.bitDepth)
        }
        try onRows(emitted, planes.assemble(colour: colour, alpha: alpha, width: target.width, height: rows))
        emitted += rows
    }
}
