import Foundation

/// A hand-written SVG chart of an evaluation: PSNR against time per megapixel, one panel per data set (each with
/// its own PSNR range, so that the few tenths of a dB between methods stay visible), one marker per method, the
/// bicubic level as a dashed line, a shared logarithmic time axis and a legend of the methods.
package struct QualityChart: Sendable {
    /// The evaluation to draw.
    package var report: EvaluationReport
    /// The chart's title; a default naming the scale is used when nil.
    package var title: String?
    /// One line under the title, e.g. the machine the times come from.
    package var subtitle: String?
    /// Compute threads the times were measured with, named in the default subtitle.
    package var threads: Int?

    /// A chart of `report`, with an optional title, subtitle and thread count.
    package init(report: EvaluationReport, title: String? = nil, subtitle: String? = nil, threads: Int? = nil) {
        self.report = report
        self.title = title
        self.subtitle = subtitle
        self.threads = threads
    }

    // Layout, in SVG user units (pixels).
    static let panelWidth = 300.0
    static let panelHeight = 250.0
    static let panelGap = 70.0
    static let left = 70.0
    static let right = 30.0
    static let top = 78.0
    static let axisSpace = 62.0
    static let legendRowHeight = 22.0
    static let panelsPerRow = 3
    static let minimumWidth = 640.0

    /// Okabe–Ito colours, distinguishable with the common colour-vision deficiencies; grey for bicubic.
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
    static let bicubicColour = "#777777"

    /// The SVG document.
    package func svg() -> String {
        let datasets = report.datasets
        let models = report.models
        let columns = max(1, min(Self.panelsPerRow, datasets.count))
        let panelRows = max(1, (datasets.count + Self.panelsPerRow - 1) / Self.panelsPerRow)
        let width = max(
            Self.minimumWidth,
            Self.left + Double(columns) * Self.panelWidth + Double(columns - 1) * Self.panelGap + Self.right
        )
        let legendTop = Self.top + Double(panelRows) * (Self.panelHeight + Self.axisSpace) + 10
        let legendColumns = max(1, Int((width - Self.left) / 190))
        let legendRows = (models.count + legendColumns - 1) / legendColumns
        let height = legendTop + Double(legendRows) * Self.legendRowHeight + 16

        let scales = Set(report.rows.map(\.scale)).sorted()
        let scaleText = scales.map { "×\($0)" }.joined(separator: ", ")
        let heading = title ?? "Super-resolution \(scaleText): PSNR (Y) against time per megapixel"
        let lr = report.lrKernel == .matlab ? "MATLAB bicubic" : "OpenCV INTER_CUBIC"
        let timing = threads.map { "wall-clock time on \($0) thread\($0 == 1 ? "" : "s")" } ?? "wall-clock time"
        let note = subtitle ?? "LR: \(lr); PSNR on Y, border = scale; \(timing); up and to the left is better"

        var svg = SVGWriter(width: width, height: height)
        svg.rect(x: 0, y: 0, width: width, height: height, fill: "#ffffff")
        svg.text(heading, x: Self.left, y: 28, size: 17, weight: "bold")
        svg.text(note, x: Self.left, y: 50, size: 12, fill: "#444444")

        let xRange = timeRange()
        for (index, dataset) in datasets.enumerated() {
            let originX = Self.left + Double(index % Self.panelsPerRow) * (Self.panelWidth + Self.panelGap)
            let originY = Self.top + Double(index / Self.panelsPerRow) * (Self.panelHeight + Self.axisSpace)
            drawPanel(
                &svg,
                dataset: dataset,
                models: models,
                x: originX,
                y: originY,
                xRange: xRange
            )
        }

        // Legend: one marker and name per method.
        for (index, model) in models.enumerated() {
            let column = index % legendColumns
            let row = index / legendColumns
            let x = Self.left + Double(column) * 190
            let y = legendTop + Double(row) * Self.legendRowHeight
            Self.marker(&svg, index: index, model: model, x: x + 6, y: y)
            svg.text(model, x: x + 18, y: y + 4, size: 12)
        }
        return svg.document()
    }

    /// log10 of the smallest and largest seconds per megapixel, widened to whole decades where that is cheap.
    func timeRange() -> (low: Double, high: Double) {
        let values = report.rows.map(\.secondsPerMegapixel).filter { $0 > 0 && $0.isFinite }.map(log10)
        guard let low = values.min(), let high = values.max() else { return (-3, 0) }
        var a = low - 0.2
        var b = high + 0.2
        if b - a < 1 {
            let middle = (a + b) / 2
            a = middle - 0.5
            b = middle + 0.5
        }
        return (a, b)
    }

    private func drawPanel(
        _ svg: inout SVGWriter,
        dataset: String,
        models: [String],
        x: Double,
        y: Double,
        xRange: (low: Double, high: Double)
    ) {
        let rows = report.rows.filter { $0.dataset == dataset && $0.psnr.isFinite && $0.secondsPerMegapixel > 0 }
        let w = Self.panelWidth
        let h = Self.panelHeight
        let psnrs = rows.map(\.psnr)
        let (yLow, yHigh, yStep) = Self.niceRange(low: psnrs.min() ?? 0, high: psnrs.max() ?? 1)
        func px(_ seconds: Double) -> Double { x + (log10(seconds) - xRange.low) / (xRange.high - xRange.low) * w }
        func py(_ psnr: Double) -> Double { y + h - (psnr - yLow) / (yHigh - yLow) * h }

        svg.rect(x: x, y: y, width: w, height: h, fill: "#fafafa", stroke: "#bbbbbb")
        let count = rows.first?.images.count ?? 0
        svg.text("\(dataset) (\(count) images)", x: x + w / 2, y: y - 8, size: 14, weight: "bold", anchor: "middle")

        // Horizontal grid and PSNR labels.
        var tick = yLow
        while tick <= yHigh + yStep / 1000 {
            let ty = py(tick)
            svg.line(x1: x, y1: ty, x2: x + w, y2: ty, stroke: "#e2e2e2")
            svg.text(Self.format(tick, step: yStep), x: x - 6, y: ty + 4, size: 11, anchor: "end")
            tick += yStep
        }
        // Vertical grid at 1, 2, 5 × 10^k seconds per megapixel.
        for exponent in Int(xRange.low.rounded(.down))...Int(xRange.high.rounded(.up)) {
            for mantissa in [1.0, 2.0, 5.0] {
                let seconds = mantissa * pow(10, Double(exponent))
                let l = log10(seconds)
                guard l >= xRange.low && l <= xRange.high else { continue }
                let tx = px(seconds)
                svg.line(x1: tx, y1: y, x2: tx, y2: y + h, stroke: mantissa == 1 ? "#d0d0d0" : "#ececec")
                // Label every line on a short axis, 1 and 5 on a longer one, decades only on a long one.
                let span = xRange.high - xRange.low
                if mantissa == 1 || span < 1.5 || (mantissa == 5 && span < 2.5) {
                    svg.text(Self.formatSeconds(seconds), x: tx, y: y + h + 16, size: 11, anchor: "middle")
                }
            }
        }
        svg.text("seconds per output megapixel (log)", x: x + w / 2, y: y + h + 36, size: 12, anchor: "middle")
        svg.text(
            "PSNR (dB)",
            x: x - 46,
            y: y + h / 2,
            size: 12,
            anchor: "middle",
            transform: "rotate(-90 \(SVGWriter.number(x - 46)) \(SVGWriter.number(y + h / 2)))"
        )

        // The bicubic level, then the markers (bicubic included) with their PSNR.
        if let bicubic = rows.first(where: { $0.model == "bicubic" }) {
            let by = py(bicubic.psnr)
            svg.line(x1: x, y1: by, x2: x + w, y2: by, stroke: Self.bicubicColour, dash: "5 4")
        }
        var points: [(row: ResultRow, index: Int, x: Double, y: Double)] = []
        for row in rows {
            guard let index = models.firstIndex(of: row.model) else { continue }
            points.append((row, index, px(row.secondsPerMegapixel), py(row.psnr)))
        }
        for point in points {
            Self.marker(
                &svg,
                index: point.index,
                model: point.row.model,
                x: point.x,
                y: point.y,
                title: Self.tooltip(point.row)
            )
        }
        // Each marker's PSNR beside it: right, left, above or below, whichever first clears the markers, the labels
        // already placed and the frame.
        var obstacles = points.map { Box(x: $0.x - 7, y: $0.y - 8, width: 14, height: 16) }
        for point in points {
            let label = String(format: "%.2f", point.row.psnr)
            let width = Double(label.count) * 6
            let height = 10.0
            let candidates = [
                (Box(x: point.x + 9, y: point.y - 5, width: width, height: height), nil as String?),
                (Box(x: point.x - 9 - width, y: point.y - 5, width: width, height: height), nil),
                (Box(x: point.x - width / 2, y: point.y - 19, width: width, height: height), nil),
                (Box(x: point.x - width / 2, y: point.y + 9, width: width, height: height), nil),
            ]
            let frame = Box(x: x, y: y, width: w, height: h)
            let chosen =
                candidates.first { candidate in
                    frame.contains(candidate.0) && !obstacles.contains { $0.overlaps(candidate.0) }
                } ?? candidates[0]
            obstacles.append(chosen.0)
            svg.text(label, x: chosen.0.x, y: chosen.0.y + 8.5, size: 10, fill: "#333333")
        }
    }

    /// A rectangle in chart coordinates, for placing labels.
    struct Box {
        var x: Double
        var y: Double
        var width: Double
        var height: Double

        func overlaps(_ other: Box) -> Bool {
            x < other.x + other.width && other.x < x + width && y < other.y + other.height && other.y < y + height
        }

        func contains(_ other: Box) -> Bool {
            other.x >= x && other.y >= y && other.x + other.width <= x + width && other.y + other.height <= y + height
        }
    }

    static func tooltip(_ row: ResultRow) -> String {
        "\(row.model) on \(row.dataset): \(String(format: "%.2f", row.psnr)) dB, SSIM "
            + "\(String(format: "%.4f", row.ssim)), \(formatSeconds(row.secondsPerMegapixel)) per megapixel"
    }

    /// A method's marker: a colour and a shape from its position in the legend.
    static func marker(
        _ svg: inout SVGWriter,
        index: Int,
        model: String,
        x: Double,
        y: Double,
        title: String? = nil
    ) {
        let colour = model == "bicubic" ? bicubicColour : palette[(index - 1 + palette.count) % palette.count]
        let r = 6.0
        switch model == "bicubic" ? -1 : (index - 1) % 4 {
        case 0: svg.circle(cx: x, cy: y, r: r, fill: colour, title: title)
        case 1:
            svg.polygon([(x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r)], fill: colour, title: title)
        case 2:
            svg.polygon(
                [(x, y - r * 1.2), (x + r * 1.1, y + r * 0.8), (x - r * 1.1, y + r * 0.8)],
                fill: colour,
                title: title
            )
        case 3:
            svg.polygon(
                [(x, y - r * 1.3), (x + r * 1.1, y), (x, y + r * 1.3), (x - r * 1.1, y)],
                fill: colour,
                title: title
            )
        default: svg.circle(cx: x, cy: y, r: r, fill: "#ffffff", stroke: colour, title: title)
        }
    }

    /// A range covering `low...high` with 3 to 7 ticks at a round step.
    static func niceRange(low: Double, high: Double) -> (low: Double, high: Double, step: Double) {
        var span = high - low
        if span < 0.1 { span = 0.1 }
        // Steps whose multiples print exactly with the decimals `format(_:step:)` gives them.
        let steps = [0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10]
        let step = steps.first { span / $0 <= 5 } ?? 10
        var a = (low / step).rounded(.down) * step
        var b = (high / step).rounded(.up) * step
        // Keep the extreme markers off the frame.
        if low - a < step * 0.15 { a -= step }
        if b - high < step * 0.15 { b += step }
        return (a, b, step)
    }

    static func format(_ value: Double, step: Double) -> String {
        let decimals = step >= 1 ? 0 : step >= 0.1 ? 1 : 2
        return String(format: "%.\(decimals)f", value)
    }

    static func formatSeconds(_ seconds: Double) -> String {
        if seconds >= 1 { return String(format: "%g s", seconds) }
        return String(format: "%g ms", (seconds * 1000 * 1000).rounded() / 1000)
    }
}
