/// How strongly a picture shows the 8×8 block grid of JPEG compression, from its pixels alone: the block-edge
/// ratio of Wu & Yuen's generalized block-edge impairment metric (GBIM, IEEE Signal Processing Letters 1997) without
/// its visibility weighting. The mean absolute step across the grid's edges (between columns 7 and 8, 15 and 16, …,
/// and the same for rows) is divided by the mean absolute step one pixel to either side of each edge, inside the
/// blocks. A picture that never was a JPEG measures about 1; a JPEG's blocks push it up (on T91: 1.2 at quality 70,
/// 1.5 at quality 40). The grid is the one a JPEG decoder lays from the top-left corner, so a picture cropped by a
/// number of pixels that is not a multiple of 8 after its compression measures like a clean one.
package enum Blockiness {
    /// The side of a JPEG block.
    package static let blockSize = 8

    /// The block-edge ratio of `plane` (samples on a 0...255 scale); nil when the plane has no block edge in either
    /// direction (under 10 pixels on both sides) or no texture at all beside its edges.
    package static func ratio(_ plane: FloatPlane) -> Double? {
        let (width, height) = (plane.width, plane.height)
        let values = plane.values
        var edge = 0.0
        var inner = 0.0
        // Vertical edges: the step from column x to x + 1 where x + 1 is a multiple of 8, with x + 2 inside.
        if width >= blockSize + 2 {
            for y in 0..<height {
                let row = y * width
                var x = blockSize - 1
                while x + 2 < width {
                    let a = values[row + x - 1]
                    let b = values[row + x]
                    let c = values[row + x + 1]
                    let d = values[row + x + 2]
                    edge += Double(abs(c - b))
                    inner += 0.5 * Double(abs(b - a) + abs(d - c))
                    x += blockSize
                }
            }
        }
        // Horizontal edges, the same down the columns.
        if height >= blockSize + 2 {
            var y = blockSize - 1
            while y + 2 < height {
                for x in 0..<width {
                    let a = values[(y - 1) * width + x]
                    let b = values[y * width + x]
                    let c = values[(y + 1) * width + x]
                    let d = values[(y + 2) * width + x]
                    edge += Double(abs(c - b))
                    inner += 0.5 * Double(abs(b - a) + abs(d - c))
                }
                y += blockSize
            }
        }
        guard inner > 0 else { return nil }
        return edge / inner
    }
}
