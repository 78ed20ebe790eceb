import Foundation

// The report as text: a console table and Markdown tables, means first, per-image values on request.

extension EvaluationReport {
    /// The means as an aligned plain-text table: one block per data set, bicubic first, with each model's gain.
    package func consoleTable(perImage: Bool = false) -> String {
        var lines: [String] = []
        for dataset in datasets {
            let rows = self.rows.filter { $0.dataset == dataset }
            let baseline = row(dataset: dataset, model: "bicubic")
            let count = rows.first?.images.count ?? 0
            lines.append("\(dataset) ×\(rows.first?.scale ?? 0) (\(count) image\(count == 1 ? "" : "s"))")
            var table: [[String]] = [["method", "PSNR dB", "gain", "SSIM", "s/image", "s/MP"]]
            for row in rows {
                table.append([
                    row.model, Self.decibels(row.psnr), Self.gain(row.psnr, over: baseline?.psnr, for: row.model),
                    String(format: "%.4f", row.ssim), Self.seconds(row.seconds), Self.seconds(row.secondsPerMegapixel),
                ])
            }
            lines += Self.aligned(table, rightAligned: 1...5).map { "  " + $0 }
            if perImage {
                var images: [[String]] = [["image"] + rows.map { $0.model }]
                for (i, first) in (rows.first?.images ?? []).enumerated() {
                    images.append(
                        [first.image]
                            + rows.map { row in
                                "\(Self.decibels(row.images[i].psnr)) / \(String(format: "%.4f", row.images[i].ssim))"
                            }
                    )
                }
                lines.append("  per image (PSNR dB / SSIM):")
                lines += Self.aligned(images, rightAligned: 1...rows.count).map { "    " + $0 }
            }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    /// The means as one Markdown table (a column per data set, PSNR / SSIM in each cell) and a timing table;
    /// with `perImage`, one more table per data set.
    package func markdown(perImage: Bool = false) -> String {
        var out = ""
        let models = self.models
        let datasets = self.datasets
        out += "| method | " + datasets.map { "\($0) PSNR / SSIM" }.joined(separator: " | ") + " |\n"
        out += "|---|" + datasets.map { _ in "---:|" }.joined() + "\n"
        for model in models {
            let cells = datasets.map { dataset -> String in
                guard let result = row(dataset: dataset, model: model) else { return "" }
                let baseline = row(dataset: dataset, model: "bicubic")?.psnr
                let gain = model == "bicubic" ? "" : " (\(Self.gain(result.psnr, over: baseline, for: model)))"
                return "\(Self.decibels(result.psnr))\(gain) / \(String(format: "%.4f", result.ssim))"
            }
            out += "| \(model) | " + cells.joined(separator: " | ") + " |\n"
        }
        out += "\n| method | " + datasets.map { "\($0) s/image" }.joined(separator: " | ") + " | s/MP (all) |\n"
        out += "|---|" + datasets.map { _ in "---:|" }.joined() + "---:|\n"
        for model in models {
            let rows = self.rows.filter { $0.model == model }
            let cells = datasets.map { dataset in
                row(dataset: dataset, model: model).map { Self.seconds($0.seconds) } ?? ""
            }
            let seconds = rows.flatMap(\.images).map(\.seconds).reduce(0, +)
            let megapixels = rows.flatMap(\.images).map { Double($0.width * $0.height) / 1e6 }.reduce(0, +)
            out += "| \(model) | " + cells.joined(separator: " | ") + " | \(Self.seconds(seconds / megapixels)) |\n"
        }
        if perImage {
            for dataset in datasets {
                let rows = self.rows.filter { $0.dataset == dataset }
                out += "\n<details><summary>\(dataset) per image (PSNR dB / SSIM)</summary>\n\n"
                out += "| image | " + rows.map(\.model).joined(separator: " | ") + " |\n"
                out += "|---|" + rows.map { _ in "---:|" }.joined() + "\n"
                for (i, first) in (rows.first?.images ?? []).enumerated() {
                    let cells = rows.map {
                        "\(Self.decibels($0.images[i].psnr)) / \(String(format: "%.4f", $0.images[i].ssim))"
                    }
                    out += "| \(first.image) | " + cells.joined(separator: " | ") + " |\n"
                }
                out += "\n</details>\n"
            }
        }
        return out
    }

    static func decibels(_ value: Double) -> String {
        value.isFinite ? String(format: "%.2f", value) : "∞"
    }

    static func gain(_ value: Double, over baseline: Double?, for model: String) -> String {
        guard model != "bicubic", let baseline, value.isFinite, baseline.isFinite else { return "" }
        let difference = value - baseline
        // A gain that rounds to zero is shown without a misleading sign.
        return abs(difference) < 0.005 ? "±0.00" : String(format: "%+.2f", difference)
    }

    static func seconds(_ value: Double) -> String {
        value >= 10
            ? String(format: "%.1f", value)
            : value >= 0.1 ? String(format: "%.2f", value) : String(format: "%.3f", value)
    }

    /// Rows padded to common column widths; the columns in `rightAligned` are padded on the left.
    static func aligned(_ table: [[String]], rightAligned: ClosedRange<Int>) -> [String] {
        let columns = table.map(\.count).max() ?? 0
        let widths = (0..<columns).map { c in table.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return table.map { row in
            row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return rightAligned.contains(c) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
    }
}

extension String {
    /// The string without the spaces at its end.
    fileprivate func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
