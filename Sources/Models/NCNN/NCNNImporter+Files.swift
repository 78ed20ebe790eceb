import Engine
import Foundation
import Kernels
import Tensor

extension NCNNImporter {
    /// Whether `path` is an ncnn `.param` file: by its extension, else by its first line (the magic number).
    package static func isParamFile(_ path: String) -> Bool {
        if (path as NSString).pathExtension.lowercased() == "param" { return true }
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 8)) ?? Data()
        return head.starts(with: Array("7767517".utf8)) && (head.count == 7 || [10, 13, 32].contains(head[7]))
    }

    /// Tiles carry the whole receptive field when it is at most this many input pixels (SRMD: 12,
    /// realesr-animevideov3: 19); wider fields get `contextMargin`.
    package static let exactMarginLimit = 32

    /// The context margin of networks whose receptive field is wider than `exactMarginLimit` (Real-ESRGAN x4plus:
    /// 349 input pixels, x4plus-anime: 94). The reference programs give their tiles 10 pixels
    /// (realesrgan-ncnn-vulkan's `prepadding`), which leaves seams of up to ~100 grey levels at texture a GAN
    /// invents; 32 keeps stitched 48-pixel tiles within a mean 0.1–0.8 grey level of the whole-image result and costs
    /// ~20% more work at the automatic tile size (docs/quality-ncnn.md has the measurement).
    package static let contextMargin = 32

    /// The family of an ncnn network taking `inputChannels` channels: SRMD takes 18 or 19; of the RGB networks,
    /// SPAN's attention blocks are built of `Swish` (and `Sigmoid`) layers, Real-ESRGAN's of (leaky) ReLUs.
    static func family(
        inputChannels: Int, layers: [String: Int], source: String
    ) throws(ModelError) -> ModelFamily {
        switch inputChannels {
        case 18, 19: return .srmd
        case 3:
            if layers["Pooling", default: 0] > 0 && layers["Deconvolution", default: 0] > 0 { return .realcugan }
            return layers["Swish", default: 0] > 0 ? .span : .realesrgan
        default:
            throw ModelError(
                .notSuperResolution,
                source: source,
                "an ncnn network taking \(inputChannels) channels is neither SRMD (18 or 19) nor an RGB network (3)"
            )
        }
    }

    /// Reads an ncnn network, `paramPath` and the `.bin` beside it (same stem), as a graph and the file's layer counts
    /// (which `ModelLoader.make` tells the family by, with the input channels).
    static func readGraph(paramPath: String) throws(ModelError) -> (graph: Graph, layerCounts: [String: Int]) {
        let param = try NCNNParam(contentsOf: paramPath)
        let binPath = weightsPath(forParam: paramPath)
        guard FileManager.default.fileExists(atPath: binPath) else {
            throw ModelError(
                .unreadable,
                source: binPath,
                "no such file: the weights of \((paramPath as NSString).lastPathComponent) must lie beside it"
            )
        }
        var weights = try NCNNModelBin(contentsOf: binPath)
        let graph = try makeGraph(param, weights: &weights, source: paramPath)
        return (graph, layerCounts(param))
    }
}
