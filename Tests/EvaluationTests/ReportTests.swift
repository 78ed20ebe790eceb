import Foundation
import Imaging
import TestSupport
import Testing

@testable import Evaluation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The outputs of an evaluation: JSON, tables, the SVG chart and the comparison images.
@Suite struct ReportTests {
    static func sampleReport() -> EvaluationReport {
        func images(_ base: Double, seconds: Double) -> [ImageResult] {
            [
                ImageResult(
                    image: "a.png",
                    psnr: base,
                    ssim: 0.9,
                    seconds: seconds,
                    cpuSeconds: 2 * seconds,
                    width: 300,
                    height: 200
                ),
                ImageResult(
                    image: "b&c.png",
                    psnr: base + 1,
                    ssim: 0.8,
                    seconds: 2 * seconds,
                    cpuSeconds: 3 * seconds,
                    width: 150,
                    height: 150
                ),
            ]
        }
        var rows: [ResultRow] = []
        for (dataset, offset) in [("Set5", 3.0), ("BSD<68>", 0.0)] {
            rows.append(
                ResultRow(dataset: dataset, model: "bicubic", scale: 3, images: images(27 + offset, seconds: 0.01))
            )
            rows.append(
                ResultRow(dataset: dataset, model: "FSRCNN_x3", scale: 3, images: images(27.2 + offset, seconds: 0.2))
            )
            rows.append(
                ResultRow(
                    dataset: dataset,
                    model: "ESPCN \"x3\"",
                    scale: 3,
                    images: images(27.1 + offset, seconds: 0.1)
                )
            )
        }
        return EvaluationReport(lrKernel: .matlab, rows: rows)
    }

    @Test func rowsHoldMeans() {
        let row = Self.sampleReport().rows[1]
        #expect(abs(row.psnr - 30.7) <= 1e-12)
        #expect(abs(row.ssim - 0.85) <= 1e-12)
        #expect(abs(row.seconds - 0.3) <= 1e-12)
        // 0.6 s over 0.06 + 0.0225 megapixels.
        #expect(abs(row.secondsPerMegapixel - 0.6 / 0.0825) <= 1e-9)
    }

    @Test func jsonHasRowsWithMeansAndImagesAndDecodesBack() throws {
        let report = Self.sampleReport()
        let data = try report.jsonData()
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let rows = try #require(object["rows"] as? [[String: Any]])
        #expect(rows.count == 6)
        for row in rows {
            for key in ["dataset", "model", "scale", "psnr", "ssim", "seconds", "images"] {
                #expect(row[key] != nil, "row without \(key)")
            }
            let images = try #require(row["images"] as? [[String: Any]])
            #expect(images.count == 2)
            for image in images {
                for key in ["image", "psnr", "ssim", "seconds"] { #expect(image[key] != nil, "image without \(key)") }
            }
        }
        #expect(rows[0]["dataset"] as? String == "Set5" && rows[0]["model"] as? String == "bicubic")
        #expect(rows[0]["scale"] as? Int == 3)
        #expect(try EvaluationReport.decode(data) == report)
    }

    @Test func infinitePSNRSurvivesJSON() throws {
        let image = ImageResult(
            image: "same.png",
            psnr: .infinity,
            ssim: 1,
            seconds: 0.1,
            cpuSeconds: 0.1,
            width: 10,
            height: 10
        )
        let report = EvaluationReport(rows: [ResultRow(dataset: "d", model: "bicubic", scale: 2, images: [image])])
        #expect(try EvaluationReport.decode(report.jsonData()).rows[0].psnr == .infinity)
    }

    @Test func tablesShowMeansAndGains() {
        let report = Self.sampleReport()
        let console = report.consoleTable()
        #expect(console.contains("Set5 ×3 (2 images)"))
        #expect(console.contains("30.70") && console.contains("+0.20"))
        #expect(EvaluationReport.gain(27.346, over: 27.347, for: "m") == "±0.00")
        #expect(EvaluationReport.gain(27.30, over: 27.35, for: "m") == "-0.05")
        #expect(EvaluationReport.gain(27.30, over: 27.35, for: "bicubic") == "")
        let markdown = report.markdown(perImage: true)
        #expect(markdown.contains("| method | Set5 PSNR / SSIM | BSD<68> PSNR / SSIM |"))
        #expect(markdown.contains("| FSRCNN_x3 | 30.70 (+0.20) / 0.8500 |"))
        #expect(markdown.contains("| b&c.png | 31.00 / 0.8000 | 31.20 / 0.8000 |"))
        #expect(report.consoleTable(perImage: true).contains("b&c.png"))
    }

    #if canImport(FoundationXML) || canImport(Darwin)
    /// Counts elements and collects text while parsing.
    final class SVGCollector: NSObject, XMLParserDelegate {
        var elements: [String: Int] = [:]
        var root: String?
        var text = ""

        func parser(
            _ parser: XMLParser,
            didStartElement name: String,
            namespaceURI: String?,
            qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            if root == nil { root = name }
            elements[name, default: 0] += 1
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
    }

    @Test func chartIsWellFormedSVGWithAPointPerRow() throws {
        let report = Self.sampleReport()
        let svg = QualityChart(report: report).svg()
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = SVGCollector()
        parser.delegate = collector
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        #expect(collector.root == "svg")
        // One marker per row, plus one per method in the legend.
        let markers = collector.elements["circle", default: 0] + collector.elements["polygon", default: 0]
        #expect(markers == report.rows.count + report.models.count)
        #expect(collector.elements["title", default: 0] == report.rows.count)
        for name in ["Set5", "BSD<68>", "FSRCNN_x3", "ESPCN \"x3\"", "bicubic", "PSNR (dB)"] {
            #expect(collector.text.contains(name), "chart without \(name)")
        }
        #expect(collector.text.contains("seconds per output megapixel"))
    }
    #endif

    @Test func chartRangesAreRound() {
        let range = QualityChart.niceRange(low: 27.35, high: 27.62)
        #expect(range.low <= 27.35 && range.high >= 27.62 && range.step == 0.1)
        let time = QualityChart(report: Self.sampleReport()).timeRange()
        #expect(time.high - time.low >= 1)
    }

    @Test func sideBySideHasAPanelPerMethodAndTheFilesAreWritten() throws {
        let image = ProtocolTests.gradient(width: 90, height: 60)
        let evaluated = try Evaluator(scale: 3).evaluate(image, name: "gradient.png")
        let strip = ComparisonImages.sideBySide(evaluated)
        let side = 60 * ComparisonImages.magnification
        #expect(strip.width == 2 * side + 3 * ComparisonImages.gap)
        #expect(strip.height == ComparisonImages.labelHeight + side + ComparisonImages.gap)

        let folder = TemporaryFolder("superres-eval")
        try ComparisonImages.write(evaluated, to: folder.path)
        for name in ["hr", "lr", "bicubic", "side-by-side"] {
            let written = try ImageFile.read("\(folder.path)/gradient/\(name).png")
            #expect(written.width > 0, "\(name).png")
        }
        #expect(try ImageFile.read("\(folder.path)/gradient/lr.png") == evaluated.lr)
    }
}
