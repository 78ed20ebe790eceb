import Engine
import Foundation
import Kernels
import Models
import Tensor
import TestSupport
import Testing

/// A tiny ncnn network written by hand, its weights in three storages, and the values it must compute.
///
/// `data` (2 channels) → Split → Convolution 3×3 (2 → 2, pad 1, bias, leaky ReLU 0.1) → Eltwise sum with
/// coefficients (0.2, 1) with the input → Concat with the input (4 channels) → PixelShuffle 2 (1 channel).
enum TinyNetwork {
    static let param = """
        7767517
        6 8
        Input            in     0 1 data
        Split            sp     1 3 data d0 d1 d2
        Convolution      conv   1 1 d0 c 0=2 1=3 4=1 5=1 6=36 9=2 -23310=1,1.000000e-01
        Eltwise          add    2 1 c d1 e 0=1 -23301=2,2.000000e-01,1.000000e+00
        Concat           cat    2 1 e d2 j 0=0
        PixelShuffle     output 1 1 j output 0=2

        """

    /// Weights `[out][in][kh][kw]`, multiples of 1/64 so float16 holds them exactly.
    static let weights: [Float] = (0..<36).map { Float(($0 * 37) % 29 - 14) / 64 }
    static let bias: [Float] = [0.25, -0.125]

    enum Storage { case float32, float16, table }

    static func bin(_ storage: Storage) -> Data {
        var data = Data()
        func uint32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        func float(_ value: Float) { uint32(value.bitPattern) }
        switch storage {
        case .float32:
            uint32(0)
            weights.forEach(float)
        case .float16:
            uint32(0x0130_6B47)
            for w in weights {
                let bits = half(w)
                data.append(UInt8(bits & 0xFF))
                data.append(UInt8(bits >> 8))
            }
        // 36 halves are 72 bytes: already a multiple of 4.
        case .table:
            // Any other non-zero tag: a 256-entry table, then one index byte per weight (padded to 4 bytes).
            uint32(0x0000_0001)
            let table = (0..<256).map { Float($0 - 128) / 64 }
            table.forEach(float)
            for w in weights { data.append(UInt8(Int(w * 64) + 128)) }
        }
        bias.forEach(float)
        return data
    }

    /// float → IEEE half for values that fit exactly (normal numbers and zero).
    static func half(_ value: Float) -> UInt16 {
        if value == 0 { return 0 }
        let bits = value.bitPattern
        let sign = UInt16(bits >> 31) << 15
        let exponent = Int((bits >> 23) & 0xFF) - 127 + 15
        let mantissa = UInt16((bits >> 13) & 0x3FF)
        return sign | UInt16(exponent) << 10 | mantissa
    }

    /// The same computation by hand, NHWC in and out.
    static func expected(_ input: [Float], height h: Int, width w: Int) -> [Float] {
        func x(_ y: Int, _ xx: Int, _ c: Int) -> Float {
            y < 0 || y >= h || xx < 0 || xx >= w ? 0 : input[(y * w + xx) * 2 + c]
        }
        var joined = [Float](repeating: 0, count: h * w * 4)
        for y in 0..<h {
            for xx in 0..<w {
                for o in 0..<2 {
                    var sum: Float = 0
                    for i in 0..<2 {
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                sum += weights[((o * 2 + i) * 3 + ky) * 3 + kx] * x(y + ky - 1, xx + kx - 1, i)
                            }
                        }
                    }
                    var value = sum + bias[o]
                    if value < 0 { value *= 0.1 }
                    joined[(y * w + xx) * 4 + o] = value * 0.2 + x(y, xx, o)
                    joined[(y * w + xx) * 4 + 2 + o] = x(y, xx, o)
                }
            }
        }
        // PixelShuffle (CRD): output (2y + i, 2x + j) = channel i·2 + j.
        var out = [Float](repeating: 0, count: h * w * 4)
        for y in 0..<h {
            for xx in 0..<w {
                for i in 0..<2 {
                    for j in 0..<2 { out[(2 * y + i) * 2 * w + 2 * xx + j] = joined[(y * w + xx) * 4 + i * 2 + j] }
                }
            }
        }
        return out
    }
}

/// Outputs of ncnn's `Interp` layer (ncnn 1.0.20261020, Python package, CPU, float32) on 2-channel inputs whose
/// channel `k`, row `y`, column `x` is `((k·H·W + y·W + x)·37 mod 23) / 7 − 1.5`.
enum InterpReference {
    /// `Interp 0=3 1=7.500000e-01 2=2.500000e+00` on the 5 × 7 input: 3 × 17, NHWC.
    static let down: [Float] = [
        -1.61865199, -0.560373545, -1.21412313, -0.26142174, -0.237459809, 0.443333507, 0.578071773, 1.05723453,
        0.445119053, 1.15729475, -0.37426281, 0.810953975, -0.628323257, 0.213046342, 0.0370835327, -0.506184638,
        0.76592356, -0.951149464, 0.8529706, -0.646428883, 0.477823526, 0.16502519, -0.132065937, 0.580919027,
        -0.87532413, 0.158068746, -1.27403915, -0.264783561, -0.816841602, 0.0876673758, 0.173369631, 0.814527214,
        0.932999492, 1.37228239, -0.25366056, 1.30342102, -0.189489901, 0.933313549, -0.0980747864, 0.0804966539,
        0.0731601417, -0.692496955, 0.457675993, -0.848997653, 0.848996997, -0.457676828, 0.674839973, -0.0624038018,
        -0.325753421, 0.247488827, -1.09224081, 0.286310673, -0.498233408, -0.31460467, 0.878288627, -1.20635378,
        1.54814923, -1.24892962, 0.937220991, -0.0425502211, 0.0552200526, 1.12686563, -0.147497073, 0.994430661,
        0.110766709, -0.010970518, 0.307410657, -0.780711412, 1.35359108, -1.09377337, 1.0457238, -0.790868521,
        0.431098431, -0.0351621509, -0.274376363, 0.559413373, -0.916804969, 0.286382526, -1.24517703, -0.550967872,
        -1.12614536, -0.618486047, -0.441412121, 0.452939749, 0.236476138, 1.4969846, 0.173125491, 1.46109104,
        -0.397279471, 0.6704669, -0.386443287, -0.142692298, 0.486432195, -0.692636728, 1.26164937, -0.836429596,
        1.06271482, -0.366155863, 0.228889525, 0.486770809, -0.40991056, 1.14142942,
    ]
    /// `Interp 0=3 1=3.000000e+00 2=5.000000e-01` on the 5 × 7 input: 15 × 3, NHWC.
    static let up: [Float] = [
        -0.474702597, 0.74206382, 0.33581382, -0.90029794, -1.15178597, 0.373016059, -0.379464269, 0.620535731,
        0.214285731, -0.736607075, -1.02232134, 0.285714239, -0.0488591418, 0.211474881, -0.194775119, -0.212053478,
        -0.720237851, -0.00925927795, 0.329364985, -0.258349866, -0.664599836, 0.394345433, -0.353421569,
        -0.347883582, 0.477678537, -0.473214269, -0.879464269, 0.736607075, 0.142857119, -0.49999997, 0.16385594,
        -0.184275925, -0.590525866, 0.508350015, 0.699900985, -0.256696552, -0.353588223, 0.351686656, -0.0545633435,
        -0.0262072682, 1.12747991, 0.16517882, -0.616071403, 0.691964269, 0.285714239, -0.357142806, 1.30803573,
        0.357142806, -0.327132732, 0.526454568, 0.120204598, -0.148065016, 1.15393567, 0.0262066424, 0.208829135,
        0.123098969, -0.283150971, 0.290922105, 0.744873881, -0.508349359, 0.549107134, -0.0937500298, -0.49999997,
        0.49999997, 0.214285731, -0.736607075, 0.431216836, 0.0887896046, -0.317460358, 0.250909507, -0.251569897,
        -0.394345403, 0.0754796416, 0.449900866, 0.0436508581, -0.201802447, -0.595900476, 0.212053835, -0.236607105,
        0.763392925, 0.357142806, -0.59375, -0.879464269, 0.736607075, -0.323908776, 0.858631074, 0.452380985,
        -0.715277851, -1.00099206, 0.900297642,
    ]
    /// `Interp 0=3 1=7.500000e-01 2=2.000000e+00` on the 8 × 6 input: 6 × 12, NHWC.
    static let exact: [Float] = [
        -1.32780457, -0.619535029, -0.812638164, -0.0648398697, 0.0452653579, 0.865436792, 0.228696421, 0.953705966,
        -0.396273643, 0.165152088, -0.144691244, -0.637531817, 0.838819623, -1.06062114, 0.953705966, -0.749632418,
        0.165152088, 0.161505312, -0.585803092, 0.425287664, -0.905434728, -0.0922141671, -1.1096127, -0.395327002,
        0.0337611698, 1.29432893, 0.128958553, 0.639491439, 0.277500719, -0.447317958, 0.683802962, -0.881295323,
        1.15618014, -0.430576891, 0.70964694, 0.0762764663, -0.423932731, 0.389822781, -0.881295323, 0.5802176,
        -0.430576891, 0.513532341, 0.0780028552, 0.727312446, 0.395002037, 1.08762896, 0.592476964, 1.3067627,
        1.4945339, -1.16168737, 1.30038345, -0.532879353, 1.00080621, 0.512198567, 0.145121768, 0.920238972,
        -0.819466174, 0.493138969, -0.704580069, -0.444890559, 0.454965055, -1.44664609, 0.920238972, -1.12563026,
        0.493138969, 0.384228438, -0.362545401, 0.678627193, -1.19961059, -0.376362622, -1.71353245, -0.999246716,
        0.279421687, 1.4278183, -0.0357239209, 0.913896561, -0.577291429, 0.0768315196, -0.169251055, -0.776847661,
        0.990294397, -1.19993711, 1.10518098, -0.774192512, 0.140592933, 0.312978983, -0.776847661, 0.512999892,
        -1.19993699, -0.308058441, -0.810836911, -0.113709152, 0.20304589, 0.951423705, 0.812913954, 1.59025908,
        0.358415902, -0.878191233, 0.646135628, -0.680716395, 1.14362442, -0.363717318, 0.70964694, 0.0762764663,
        -0.423932731, 0.389822781, -0.881295323, 0.5802176, -0.430576891, 0.513532341, 0.0762764663, 0.794172049,
        0.389822751, 1.28820801, 0.603602767, 0.875889361, 0.583688021, -0.210920036, 0.576607883, -0.865757465,
        0.699985683, 0.823899746, 0.20041348, 0.61972183, -0.641376376, 0.300089866, -0.553107083, -0.469450384,
        0.430406094, -1.29517341, 0.780924618, -0.984184623, 0.353824109, 0.329587281, -0.469450384, 0.560224593,
        -1.29517341, -0.426201165, -1.03139102, -0.436867028, 0.18796815, 0.493411779, 0.918177664, 1.04810822,
    ]

    static func input(height: Int, width: Int) -> [Float] {
        var values = [Float](repeating: 0, count: 2 * height * width)
        for k in 0..<2 {
            for y in 0..<height {
                for x in 0..<width {
                    values[(y * width + x) * 2 + k] = Float((k * height * width + y * width + x) * 37 % 23) / 7 - 1.5
                }
            }
        }
        return values
    }
}

@Suite struct NCNNTests {
    static func graph(param: String, bin: Data) throws(ModelError) -> Graph {
        let parsed = try NCNNParam(text: param, source: "tiny.param")
        var weights = NCNNModelBin(data: bin, source: "tiny.bin")
        return try NCNNImporter.makeGraph(parsed, weights: &weights, source: "tiny.param")
    }

    static func error(_ body: () throws -> Void) -> ModelError? {
        do {
            try body()
        } catch let error as ModelError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
        }
        return nil
    }

    @Test(arguments: [TinyNetwork.Storage.float32, .float16, .table])
    func tinyNetworkMatchesTheHandComputation(_ storage: TinyNetwork.Storage) throws {
        let graph = try Self.graph(param: TinyNetwork.param, bin: TinyNetwork.bin(storage))
        var generator = SeededGenerator(seed: 7)
        let (h, w) = (5, 6)
        let input = (0..<(h * w * 2)).map { _ in Float.random(in: -1...1, using: &generator) }
        let expected = TinyNetwork.expected(input, height: h, width: w)
        for kernels in KernelChoice.allCases {
            let output = try GraphExecutor(graph: graph, kernels: kernels).run(
                Tensor(shape: [1, h, w, 2], scalars: input),
                output: "output"
            )
            #expect(output.shape == [1, 2 * h, 2 * w, 1])
            for (a, b) in zip(output.scalars, expected) {
                #expect(abs(a - b) <= 1e-5 * max(1, abs(b)), "\(kernels): \(a) vs \(b)")
            }
        }
    }

    /// An `Interp` layer through the importer and both executors against ncnn (output sizes exactly `H · scale`).
    @Test func interpLayerMatchesNCNN() throws {
        let text = "7767517\n2 2\nInput in 0 1 data\nInterp output 1 1 data output 0=3 1=0.75 2=2.0\n"
        let graph = try Self.graph(param: text, bin: Data())
        for kernels in KernelChoice.allCases {
            let output = try GraphExecutor(graph: graph, kernels: kernels).run(
                Tensor(shape: [1, 8, 6, 2], scalars: InterpReference.input(height: 8, width: 6)),
                output: "output"
            )
            #expect(output.shape == [1, 6, 12, 2])
            for (a, b) in zip(output.scalars, InterpReference.exact) { #expect(abs(a - b) <= 1e-5, "\(a) vs \(b)") }
        }
    }

    /// The bicubic kernel with ncnn's scale factors, where the output size is not `H · scale` (5 → 3 rows at 0.75,
    /// 7 → 17 columns at 2.5): ncnn steps by `1 / scale`.
    @Test(arguments: [(Float(0.75), Float(2.5), 3, 17), (3, 0.5, 15, 3)])
    func bicubicKernelMatchesNCNNScaleFactors(_ scaleY: Float, _ scaleX: Float, _ height: Int, _ width: Int) {
        let input = Tensor(shape: [1, 5, 7, 2], scalars: InterpReference.input(height: 5, width: 7))
        let output = ReferenceKernels.resample(
            input,
            mode: .bicubic,
            outputHeight: height,
            outputWidth: width,
            scaleY: scaleY,
            scaleX: scaleX
        )
        let expected = height == 3 ? InterpReference.down : InterpReference.up
        #expect(output.shape == [1, height, width, 2])
        for (a, b) in zip(output.scalars, expected) { #expect(abs(a - b) <= 1e-5, "\(a) vs \(b)") }
    }

    @Test func nearestInterpRepeatsPixels() throws {
        let text = "7767517\n2 2\nInput in 0 1 data\nInterp output 1 1 data output 0=1 1=2.0 2=3.0\n"
        let graph = try Self.graph(param: text, bin: Data())
        let input = InterpReference.input(height: 5, width: 7)
        let output = try GraphExecutor(graph: graph).run(Tensor(shape: [1, 5, 7, 2], scalars: input), output: "output")
        #expect(output.shape == [1, 10, 21, 2])
        for y in 0..<10 {
            for x in 0..<21 {
                for k in 0..<2 { #expect(output.scalars[(y * 21 + x) * 2 + k] == input[(y / 2 * 7 + x / 3) * 2 + k]) }
            }
        }
    }

    @Test func optimizerFusesTheEltwiseIntoTheConvolution() throws {
        let graph = try Self.graph(param: TinyNetwork.param, bin: TinyNetwork.bin(.float32))
        let optimized = GraphOptimizer.optimize(graph)
        var convolutions = 0
        for node in optimized.nodes {
            guard case .convolution(_, let epilogue) = node.operation else { continue }
            convolutions += 1
            #expect(epilogue.scale == 0.2 && epilogue.addsResidual)
            #expect(epilogue.activation == .leakyReLU(slope: 0.1))
        }
        #expect(convolutions == 1)
    }

    @Test func everyTruncationIsAnErrorNotACrash() {
        let bin = TinyNetwork.bin(.float16)
        for length in 0..<bin.count {
            let error = Self.error { _ = try Self.graph(param: TinyNetwork.param, bin: bin.prefix(length)) }
            #expect(error?.code == .malformed, "\(length) bytes")
            #expect(error?.node == "conv", "\(length) bytes")
        }
        // A longer .bin than the layers read belongs to another network.
        let longer = Self.error { _ = try Self.graph(param: TinyNetwork.param, bin: bin + Data([0, 0, 0, 0])) }
        #expect(longer?.code == .malformed)
        let lines = TinyNetwork.param.split(separator: "\n", omittingEmptySubsequences: false)
        for count in 0..<(lines.count - 2) {
            let text = lines.prefix(count).joined(separator: "\n")
            let error = Self.error { _ = try Self.graph(param: text, bin: bin) }
            #expect(error?.code == .malformed, "\(count) lines")
        }
    }

    static let garbled: [(String, String)] = [
        ("magic", "7767518\n1 1\nInput in 0 1 data\n"),
        ("binary", "\u{0}\u{1}\u{2}"),
        ("counts", "7767517\nsix 8\nInput in 0 1 data\n"),
        ("huge layer count", "7767517\n999999999999 1\nInput in 0 1 data\n"),
        ("negative blobs", "7767517\n1 -1\nInput in 0 1 data\n"),
        ("too few blobs", "7767517\n2 1\nInput in 0 1 data\nReLU r 1 1 data out\n"),
        ("blob counts past the line", "7767517\n1 1\nInput in 0 99 data\n"),
        ("unknown blob", "7767517\n2 2\nInput in 0 1 data\nReLU r 1 1 nothing out\n"),
        ("blob written twice", "7767517\n2 2\nInput in 0 1 data\nReLU r 1 1 data data\n"),
        ("array count", "7767517\n2 2\nInput in 0 1 data\nEltwise e 1 1 data out 0=1 -23301=3,1.0,2.0\n"),
        ("not key=value", "7767517\n2 2\nInput in 0 1 data\nReLU r 1 1 data out slope\n"),
        ("float for integer", "7767517\n2 2\nInput in 0 1 data\nPixelShuffle p 1 1 data out 0=2.0\n"),
        ("weight size", "7767517\n2 2\nInput in 0 1 data\nConvolution c 1 1 data out 0=2 1=3 6=17\n"),
        ("huge convolution", "7767517\n2 2\nInput in 0 1 data\nConvolution c 1 1 data out 0=99999999 1=3 6=9\n"),
        ("PReLU slopes", "7767517\n2 2\nInput in 0 1 data\nPReLU p 1 1 data out 0=-4\n"),
    ]

    @Test(arguments: garbled)
    func garbledParamIsATypedError(_ label: String, _ text: String) {
        let error = Self.error { _ = try Self.graph(param: text, bin: Data(repeating: 0, count: 64)) }
        #expect(error?.code == .malformed, "\(label): \(String(describing: error))")
    }

    /// Numbers at the edges of Int that once trapped (arithmetic overflow) instead of failing: counts, keys and weight
    /// sizes, each with a `.bin` that holds one storage tag.
    static let overflowing: [(String, String, [UInt8])] = [
        ("input count", "Convolution c 9223372036854775807 1 data out 0=8 1=3 6=216", []),
        ("output count", "Convolution c 1 9223372036854775807 data out 0=8 1=3 6=216", []),
        ("key Int.min", "Convolution c 1 1 data out -9223372036854775808=1", []),
        ("array key Int.min", "Convolution c 1 1 data out -9223372036854775808=1,2", []),
        ("float16 weights", "Convolution c 1 1 data out 0=1 1=1 6=9223372036854775807", [0x47, 0x6B, 0x30, 0x01]),
        ("float16 multiple", "Convolution c 1 1 data out 0=8 1=3 6=9223372036854775800", [0x47, 0x6B, 0x30, 0x01]),
        ("table weights", "Convolution c 1 1 data out 0=1 1=1 6=9223372036854775806", [0x01, 0, 0, 0]),
        ("float32 weights", "Convolution c 1 1 data out 0=1 1=1 6=9223372036854775807", [0, 0, 0, 0]),
    ]

    @Test(arguments: overflowing)
    func numbersAtTheEdgesOfIntAreErrorsNotTraps(_ label: String, _ line: String, _ bin: [UInt8]) {
        let error = Self.error { _ = try Self.graph(param: "7767517\n2 2\nInput in 0 1 data\n\(line)\n", bin: Data(bin)) }
        #expect(error?.code == .malformed, "\(label): \(String(describing: error))")
    }

    @Test func unknownLayerIsAnErrorNamingIt() {
        let text = "7767517\n2 2\nInput in 0 1 data\nSoftmax probabilities 1 1 data out 0=0\n"
        let error = Self.error { _ = try Self.graph(param: text, bin: Data()) }
        #expect(error?.code == .unsupportedOperation)
        #expect(error?.node == "probabilities")
        #expect(error?.message.contains("Softmax") == true)
    }

    @Test func unsupportedSettingsAreErrorsNamingTheLayer() {
        let cases = [
            "Convolution c 1 1 data out 0=1 1=3 3=2 6=9",  // stride 2
            "Convolution c 1 1 data out 0=1 1=3 6=9 9=4",  // sigmoid activation
            "Interp i 1 1 data out 0=2 1=2.0 2=2.0",  // bilinear
            "Interp i 1 1 data out 0=3 3=64 4=64",  // fixed output size
            "PixelShuffle p 1 1 data out 0=2 1=5",
        ]
        for line in cases {
            let error = Self.error {
                _ = try Self.graph(param: "7767517\n2 2\nInput in 0 1 data\n\(line)\n", bin: Data(count: 64))
            }
            #expect(error?.code == .unsupportedAttribute, "\(line)")
            #expect(error?.node.map { line.split(separator: " ")[1] == $0 } == true, "\(line)")
        }
    }

    @Test func int8WeightsAreRefused() {
        var bin = Data([0x38, 0x4B, 0x0D, 0x00])
        bin.append(Data(count: 36 + 8))
        let error = Self.error { _ = try Self.graph(param: TinyNetwork.param, bin: bin) }
        #expect(error?.code == .unsupportedAttribute)
        #expect(error?.message.contains("int8") == true)
    }

    @Test func halfConversionIsExact() {
        #expect(NCNNModelBin.float(fromHalf: 0x3C00) == 1)
        #expect(NCNNModelBin.float(fromHalf: 0xC000) == -2)
        #expect(NCNNModelBin.float(fromHalf: 0x0001) == 0x1p-24)
        #expect(NCNNModelBin.float(fromHalf: 0x7BFF) == 65504)
        #expect(NCNNModelBin.float(fromHalf: 0x7C00) == .infinity)
        #expect(NCNNModelBin.float(fromHalf: 0x7E00).isNaN)
    }

    /// A 3-channel ×2 network (Convolution 3 → 12, PixelShuffle 2) written to files: `ModelLoader.load(path:)`
    /// takes the `.param` path to the ncnn importer and detects Real-ESRGAN ×2.
    @Test func loaderDispatchesParamFilesAndDetectsFamilyAndScale() throws {
        let folder = TemporaryFolder("superres-ncnn")
        let param = """
            7767517
            3 3
            Input        in     0 1 data
            Convolution  conv   1 1 data c 0=12 1=3 4=1 5=1 6=324
            PixelShuffle output 1 1 c output 0=2

            """
        // All-zero weights (tag 0: float32): only the shapes matter here.
        let bin = Data(count: 4 + 324 * 4 + 12 * 4)
        try Data(param.utf8).write(to: URL(fileURLWithPath: folder.appending("tiny.param")))
        try bin.write(to: URL(fileURLWithPath: folder.appending("tiny.bin")))
        let model = try ModelLoader.load(path: folder.appending("tiny.param"))
        #expect(model.family == .realesrgan && model.scale == 2 && model.inputChannels == 3)
        #expect(model.tileMargin == 1 && model.tileMarginIsExact)
        #expect(throws: ModelError.self) { try ModelLoader.load(path: folder.appending("tiny.param"), family: .srmd) }
        #expect(throws: ModelError.self) { try ModelLoader.load(path: folder.appending("tiny.param"), scale: 3) }
        try FileManager.default.removeItem(atPath: folder.appending("tiny.bin"))
        let missing = Self.error { _ = try ModelLoader.load(path: folder.appending("tiny.param")) }
        #expect(missing?.code == .unreadable)
        #expect(missing?.source.hasSuffix("tiny.bin") == true)
    }
}
