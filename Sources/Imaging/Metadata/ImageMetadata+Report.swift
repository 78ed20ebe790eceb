// What superres says about metadata: what a file holds (`superres info`) and what an enlargement keeps, updates or
// drops (`upscale --verbose`, the service's job record), so that nothing is dropped silently.

extension ImageMetadata {
    /// "pages: 3 — only the first is enlarged" for a multi-page TIFF, else nil.
    package var pagesLine: String? {
        pageCount > 1 ? "pages: \(pageCount); only the first is enlarged (the others are left out)" : nil
    }

    /// One line per part the file holds ("colour profile: Display P3 (RGB, 536 bytes)", ...); empty when none.
    package var summary: [String] {
        var lines: [String] = []
        if let pages = pagesLine { lines.append(pages) }
        if let profile = iccProfile {
            lines.append(
                "colour profile: \(profile.displayName) (\(profile.colourSpace), \(profile.bytes.count) bytes)"
            )
        }
        if !pngColourChunks.isEmpty {
            lines.append("PNG colour: \(pngColourChunks.map(\.type).joined(separator: ", "))")
        }
        if let exif {
            var facts = ["\(exif.count) bytes"]
            if let block = ExifBlock(exif) {
                if let orientation = block.orientation { facts.append("orientation \(orientation.rawValue)") }
                if block.hasThumbnail { facts.append("a thumbnail") }
            }
            lines.append("EXIF: \(facts.joined(separator: ", "))")
        }
        if let xmp { lines.append("XMP: \(xmp.count) bytes") }
        if let density { lines.append("resolution: \(density.description)") }
        if !pngTextChunks.isEmpty { lines.append("PNG text: \(pngTextChunks.count) chunk(s)") }
        return lines + notes
    }

    /// What happens to this (input) metadata when `output` (from `enlarged`) is written as a `width × height`
    /// `format` file, a line each.
    package func report(output: ImageMetadata, format: ImageFormat, width: Int, height: Int) -> [String] {
        var lines: [String] = []
        if let pages = pagesLine { lines.append(pages) }
        if output.profileIsSRGB {
            let from = iccProfile.map { "\($0.displayName)" } ?? "no profile (taken as sRGB)"
            lines.append("colour: \(from) → sRGB (converted by lcms2; the result is tagged sRGB)")
        } else if let profile = iccProfile {
            lines.append(
                "colour profile \(profile.displayName): "
                    + (output.iccProfile != nil ? "kept" : "dropped")
            )
        } else {
            lines.append("colour profile: none (the pixels are taken as sRGB)")
        }
        if let exif {
            if output.exif == nil {
                lines.append("EXIF: dropped (metadata stripped on request)")
            } else {
                var changes = ["orientation 1", "size \(width)×\(height)"]
                if ExifBlock(exif)?.hasThumbnail == true { changes.append("thumbnail dropped") }
                lines.append("EXIF: kept (\(changes.joined(separator: ", ")); all other tags unchanged)")
            }
        }
        if xmp != nil {
            lines.append(
                output.xmp == nil
                    ? "XMP: dropped (metadata stripped on request)" : "XMP: kept (orientation and size updated)"
            )
        }
        switch (density, output.density) {
        case (nil, nil): break
        case (let input?, let written?) where input == written: lines.append("resolution: \(written.description), kept")
        case (let input, let written?):
            lines.append("resolution: \(input?.description ?? "none") → \(written.description)")
        case (let input?, nil): lines.append("resolution: \(input.description), dropped")
        }
        if !pngTextChunks.isEmpty, output.pngTextChunks.isEmpty {
            lines.append("PNG text: \(pngTextChunks.count) chunk(s) dropped (metadata stripped on request)")
        }
        for lost in output.unwritable(as: format) { lines.append("dropped: \(lost)") }
        return lines + output.notes
    }
}
