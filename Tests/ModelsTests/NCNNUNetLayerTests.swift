import Engine
import Foundation
import Kernels
import Models
import Tensor
import TestSupport
import Testing

/// Real-CUGAN's ncnn layers (Deconvolution, strided Convolution, global Pooling, InnerProduct, Crop) through the
/// importer and every kernel choice, against ncnn's layer loops written out plainly here (src/layer/*.cpp).
@Suite struct NCNNUNetLayerTests {
    /// A CHW blob, as ncnn holds it.
    struct Blob {
        var channels: Int, height: Int, width: Int
        var values: [Float]
        subscript(c: Int, y: Int, x: Int) -> Float { values[(c * height + y) * width + x] }

        /// The same values as an NHWC tensor.
        var nhwc: Tensor {
            var out = [Float](repeating: 0, count: values.count)
            for c in 0..<channels {
                for y in 0..<height { for x in 0..<width { out[(y * width + x) * channels + c] = self[c, y, x] } }
            }
            return Tensor(shape: [1, height, width, channels], scalars: out)
        }
    }

    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
    }

    /// A `.bin`: each layer's weights tagged float32 (a zero word first), its bias raw.
    static func bin(_ layers: [(weights: [Float], bias: [Float])]) -> Data {
        var data = Data()
        func float(_ value: Float) { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        for layer in layers {
            withUnsafeBytes(of: UInt32(0)) { data.append(contentsOf: $0) }
            layer.weights.forEach(float)
            layer.bias.forEach(float)
        }
        return data
    }

    static func graph(_ body: String, layers: Int, blobs: Int, bin: Data) throws -> Graph {
        let text = "7767517\n\(layers) \(blobs)\nInput in 0 1 data\n" + body
        var weights = NCNNModelBin(data: bin, source: "unet.bin")
        return try NCNNImporter.makeGraph(NCNNParam(text: text, source: "unet.param"), weights: &weights, source: "unet")
    }

    /// Runs `graph` on every kernel choice and compares with `expected` (CHW).
    static func check(_ graph: Graph, input: Blob, expected: Blob, sourceLocation: SourceLocation = #_sourceLocation)
        throws
    {
        let wanted = expected.nhwc
        for kernels in KernelChoice.allCases {
            let output = try GraphExecutor(graph: graph, kernels: kernels).run(input.nhwc, output: "output")
            #expect(output.shape == wanted.shape, "\(kernels)", sourceLocation: sourceLocation)
            guard output.shape == wanted.shape else { continue }
            let worst = zip(output.scalars, wanted.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(worst <= 1e-5, "\(kernels): worst relative difference \(worst)", sourceLocation: sourceLocation)
        }
    }

    static func leaky(_ v: Float) -> Float { v > 0 ? v : v * 0.1 }

    /// ncnn's Deconvolution: every input pixel scatters its weights at `(y·s + ky, x·s + kx)` over a map of
    /// `(n − 1)·s + k`, bias first, activation, then the padding cut.
    static func deconvolution(
        _ input: Blob, outputs: Int, kernel: (h: Int, w: Int), stride s: Int, pad: (l: Int, r: Int, t: Int, b: Int),
        weights: [Float], bias: [Float]
    ) -> Blob {
        let fullH = (input.height - 1) * s + kernel.h
        let fullW = (input.width - 1) * s + kernel.w
        var full = [Float](repeating: 0, count: outputs * fullH * fullW)
        for o in 0..<outputs {
            for i in 0..<(fullH * fullW) { full[o * fullH * fullW + i] = bias[o] }
            for q in 0..<input.channels {
                for y in 0..<input.height {
                    for x in 0..<input.width {
                        for ky in 0..<kernel.h {
                            for kx in 0..<kernel.w {
                                let w = weights[((o * input.channels + q) * kernel.h + ky) * kernel.w + kx]
                                full[(o * fullH + y * s + ky) * fullW + x * s + kx] += input[q, y, x] * w
                            }
                        }
                    }
                }
            }
        }
        let (h, w) = (fullH - pad.t - pad.b, fullW - pad.l - pad.r)
        var out = [Float](repeating: 0, count: outputs * h * w)
        for o in 0..<outputs {
            for y in 0..<h {
                for x in 0..<w { out[(o * h + y) * w + x] = leaky(full[(o * fullH + y + pad.t) * fullW + x + pad.l]) }
            }
        }
        return Blob(channels: outputs, height: h, width: w, values: out)
    }

    @Test(arguments: [
        (2, 2, 2, 0, 0, 0, 0), (4, 4, 2, 3, 3, 3, 3), (5, 5, 3, 2, 2, 2, 2), (3, 3, 2, 1, 1, 1, 1), (3, 3, 1, 0, 0, 0, 0),
        (4, 3, 2, 1, 2, 0, 1),
    ])
    func deconvolutionMatchesNCNNsLoop(kh: Int, kw: Int, s: Int, l: Int, r: Int, t: Int, b: Int) throws {
        let (inputs, outputs) = (3, 4)
        let input = Blob(channels: inputs, height: 5, width: 6, values: Self.random(inputs * 30, seed: 1))
        let weights = Self.random(outputs * inputs * kh * kw, seed: 2)
        let bias = Self.random(outputs, seed: 3)
        let layer =
            "Deconvolution output 1 1 data output 0=\(outputs) 1=\(kw) 11=\(kh) 3=\(s) 4=\(l) 15=\(r) 14=\(t) 16=\(b) "
            + "5=1 6=\(weights.count) 9=2 -23310=1,1.000000e-01\n"
        let graph = try Self.graph(layer, layers: 2, blobs: 2, bin: Self.bin([(weights, bias)]))
        let expected = Self.deconvolution(
            input, outputs: outputs, kernel: (kh, kw), stride: s, pad: (l, r, t, b), weights: weights, bias: bias)
        try Self.check(graph, input: input, expected: expected)
    }

    @Test func stridedConvolutionMatchesNCNNsLoop() throws {
        let (inputs, outputs, s) = (3, 5, 2)
        // Odd sizes: the last row and column fill no whole stride and are left out, as ncnn leaves them out.
        let input = Blob(channels: inputs, height: 7, width: 9, values: Self.random(inputs * 63, seed: 4))
        let weights = Self.random(outputs * inputs * s * s, seed: 5)
        let bias = Self.random(outputs, seed: 6)
        let layer = "Convolution output 1 1 data output 0=\(outputs) 1=\(s) 3=\(s) 5=1 6=\(weights.count) 9=4\n"
        let graph = try Self.graph(layer, layers: 2, blobs: 2, bin: Self.bin([(weights, bias)]))
        let (h, w) = (3, 4)
        var out = [Float](repeating: 0, count: outputs * h * w)
        for o in 0..<outputs {
            for y in 0..<h {
                for x in 0..<w {
                    var sum = bias[o]
                    for q in 0..<inputs {
                        for ky in 0..<s {
                            for kx in 0..<s {
                                sum += input[q, y * s + ky, x * s + kx] * weights[((o * inputs + q) * s + ky) * s + kx]
                            }
                        }
                    }
                    out[(o * h + y) * w + x] = 1 / (1 + exp(-sum))
                }
            }
        }
        try Self.check(graph, input: input, expected: Blob(channels: outputs, height: h, width: w, values: out))
    }

    /// Squeeze and excitation as Real-CUGAN writes it: global average Pooling, InnerProduct + ReLU, InnerProduct +
    /// sigmoid, the map times the vector per channel (BinaryOp 0=2); then a Crop of 1, 2 rows and 2, 1 columns.
    @Test func squeezeAndExcitationAndCropMatchNCNNsLoops() throws {
        let (c, reduced, h, w) = (6, 2, 5, 7)
        let input = Blob(channels: c, height: h, width: w, values: Self.random(c * h * w, seed: 7))
        let down = Self.random(reduced * c, seed: 8)
        let downBias = Self.random(reduced, seed: 9)
        let up = Self.random(c * reduced, seed: 10)
        let upBias = Self.random(c, seed: 11)
        let body = """
            Split            sp     1 2 data a b
            Pooling          gap    1 1 a g 0=1 4=1
            InnerProduct     fc1    1 1 g f1 0=\(reduced) 1=1 2=\(down.count) 9=1
            InnerProduct     fc2    1 1 f1 f2 0=\(c) 1=1 2=\(up.count) 9=4
            BinaryOp         mul    2 1 b f2 m 0=2
            Crop             output 1 1 m output -23309=2,1,2 -23310=2,-2,-1 -23311=2,-2,-1

            """
        let graph = try Self.graph(body, layers: 7, blobs: 8, bin: Self.bin([(down, downBias), (up, upBias)]))
        var mean = [Float](repeating: 0, count: c)
        for k in 0..<c {
            for y in 0..<h { for x in 0..<w { mean[k] += input[k, y, x] } }
            mean[k] /= Float(h * w)
        }
        let hidden: [Float] = (0..<reduced).map { (o: Int) -> Float in
            max(0, (0..<c).reduce(downBias[o]) { $0 + down[o * c + $1] * mean[$1] })
        }
        let gate: [Float] = (0..<c).map { (o: Int) -> Float in
            let sum: Float = (0..<reduced).reduce(upBias[o]) { $0 + up[o * reduced + $1] * hidden[$1] }
            return 1 / (1 + exp(-sum))
        }
        let (oh, ow) = (h - 3, w - 3)
        var out = [Float](repeating: 0, count: c * oh * ow)
        for k in 0..<c {
            for y in 0..<oh { for x in 0..<ow { out[(k * oh + y) * ow + x] = input[k, y + 1, x + 2] * gate[k] } }
        }
        try Self.check(graph, input: input, expected: Blob(channels: c, height: oh, width: ow, values: out))
    }

    @Test(arguments: [
        ("global max pooling", "Pooling output 1 1 data output 0=0 4=1\n", "max"),
        ("windowed pooling", "Pooling output 1 1 data output 0=1 1=2 2=2\n", "global"),
        ("channel crop", "Crop output 1 1 data output -23309=1,1 -23310=1,-1 -23311=1,0\n", "axis"),
        ("crop to a fixed end", "Crop output 1 1 data output -23309=1,1 -23310=1,5 -23311=1,-1\n", "end"),
        ("deconvolution output padding", "Deconvolution output 1 1 data output 0=1 1=2 3=2 6=12 18=1\n", "output"),
        ("strided 3×3 convolution", "Convolution output 1 1 data output 0=1 1=3 3=2 6=27\n", "stride"),
    ])
    func unsupportedSettingsAreErrorsNamingTheLayer(_ label: String, _ layer: String, _ word: String) {
        do {
            _ = try Self.graph(layer, layers: 2, blobs: 2, bin: Self.bin([(Self.random(27, seed: 1), [])]))
            Issue.record("\(label): accepted")
        } catch let error as ModelError {
            #expect(error.code == .unsupportedAttribute, "\(label): \(error)")
            #expect(error.description.contains("output") && error.description.contains(word), "\(label): \(error)")
        } catch {
            Issue.record("\(label): \(error)")
        }
    }
}
