import Foundation
import Imaging

/// Writes what an evaluation saw: the HR, LR and every method's output as PNG, and a labelled side-by-side crop.
package enum ComparisonImages {
    /// Side of the square crop, in HR pixels, and how much it is enlarged (nearest neighbour) in the strip.
    static let cropSide = 128
    static let magnification = 2
    static let gap = 8
    static let labelHeight = 40

    /// Writes `<folder>/<image stem>/{hr,lr,<method>…}.png` and `<folder>/<image stem>/side-by-side.png`.
    package static func write(_ evaluated: EvaluatedImage, to folder: String) throws(EvaluationError) {
        let stem = (evaluated.name as NSString).deletingPathExtension
        let target = (folder as NSString).appendingPathComponent(fileName(stem))
        do {
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        } catch {
            throw EvaluationError(.writeFailed, source: target, message: "cannot create the folder", underlying: error)
        }
        var files = [("hr", evaluated.hr), ("lr", evaluated.lr)]
        files += evaluated.outputs.map { (fileName($0.method), $0.image) }
        files.append(("side-by-side", sideBySide(evaluated)))
        for (name, image) in files {
            let path = (target as NSString).appendingPathComponent(name + ".png")
            do {
                try ImageFile.write(image, to: path, format: .png)
            } catch {
                throw EvaluationError(.writeFailed, source: path, message: error.message, underlying: error)
            }
        }
    }

    /// A name safe for a file: letters, digits, `-`, `_` and `.`, anything else as `_`.
    static func fileName(_ name: String) -> String {
        String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "_" })
    }

    /// HR, then each method's output, cropped to the same window (where bicubic errs most), enlarged ×2 and
    /// labelled with the method's name and PSNR.
    package static func sideBySide(_ evaluated: EvaluatedImage) -> PixelImage {
        let hr = evaluated.hr
        let side = min(cropSide, hr.width, hr.height)
        let bicubic = evaluated.outputs.first { $0.method == "bicubic" }?.image ?? hr
        let (left, top) = worstWindow(
            hr: LumaPlane(matlabLumaOf: hr),
            other: LumaPlane(matlabLumaOf: bicubic),
            side: side
        )
        var panels = [("HR", "", hr)]
        for (output, result) in zip(evaluated.outputs, evaluated.results) {
            panels.append((output.method, String(format: "%.2f dB", result.psnr), output.image))
        }
        let tile = side * magnification
        let width = panels.count * tile + (panels.count + 1) * gap
        let height = labelHeight + tile + gap
        var pixels = [UInt8](repeating: 255, count: width * height * 3)
        for (index, (name, caption, image)) in panels.enumerated() {
            let originX = gap + index * (tile + gap)
            let rgb = rgbSamples(image)
            for y in 0..<tile {
                let sourceRow = (top + y / magnification) * image.width
                for x in 0..<tile {
                    let s = (sourceRow + left + x / magnification) * 3
                    let d = ((labelHeight + y) * width + originX + x) * 3
                    pixels[d] = rgb[s]
                    pixels[d + 1] = rgb[s + 1]
                    pixels[d + 2] = rgb[s + 2]
                }
            }
            for (line, text) in [name, caption].enumerated() where !text.isEmpty {
                let scale = BitmapFont.width(of: text, magnification: 2) <= tile ? 2 : 1
                BitmapFont.draw(
                    text,
                    x: originX,
                    y: 4 + line * 18,
                    magnification: scale,
                    colour: (20, 20, 20),
                    into: &pixels,
                    imageWidth: width
                )
            }
        }
        return PixelImage(width: width, height: height, layout: .rgb, uint8: pixels)
    }

    /// The top-left corner of the `side`×`side` window (on an 8-pixel grid) where `other` differs most from `hr`.
    static func worstWindow(hr: LumaPlane, other: LumaPlane, side: Int) -> (x: Int, y: Int) {
        let (w, h) = (hr.width, hr.height)
        // Summed-area table of squared differences.
        var table = [Double](repeating: 0, count: (w + 1) * (h + 1))
        for y in 0..<h {
            var rowSum = 0.0
            for x in 0..<w {
                let d = hr.values[y * w + x] - other.values[y * w + x]
                rowSum += d * d
                table[(y + 1) * (w + 1) + x + 1] = table[y * (w + 1) + x + 1] + rowSum
            }
        }
        var best = (x: (w - side) / 2, y: (h - side) / 2)
        var bestError = -1.0
        for y in stride(from: 0, through: h - side, by: 8) {
            for x in stride(from: 0, through: w - side, by: 8) {
                let error =
                    table[(y + side) * (w + 1) + x + side] - table[y * (w + 1) + x + side]
                    - table[(y + side) * (w + 1) + x] + table[y * (w + 1) + x]
                if error > bestError {
                    bestError = error
                    best = (x, y)
                }
            }
        }
        return best
    }

    /// An 8-bit grey or RGB image's samples as RGB triples.
    static func rgbSamples(_ image: PixelImage) -> [UInt8] {
        guard case .uint8(let samples) = image.samples else { preconditionFailure("8-bit image expected") }
        if image.layout == .rgb { return samples }
        let channels = image.layout.channelCount
        var out = [UInt8](repeating: 0, count: image.pixelCount * 3)
        for p in 0..<image.pixelCount {
            if image.layout.isGrey {
                let g = samples[p * channels]
                out[p * 3] = g
                out[p * 3 + 1] = g
                out[p * 3 + 2] = g
            } else {
                for c in 0..<3 { out[p * 3 + c] = samples[p * channels + c] }
            }
        }
        return out
    }
}
