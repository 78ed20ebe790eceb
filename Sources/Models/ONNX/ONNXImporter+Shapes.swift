import Engine
import Foundation
import Kernels
import Tensor

// The shape arithmetic of dynamic exports (Shape, Gather, Unsqueeze, Concat, Slice, Cast on sizes), folded while
// importing, and the Reshape/Transpose/Reshape chains that spell a pixel shuffle or unshuffle.

extension ONNXImporter.Builder {
    typealias Value = ONNXImporter.Value

    /// Whether two sizes are the same for every input, or (for an export fixed at one size) at that size.
    func same(_ a: SymbolicSize, _ b: SymbolicSize) -> Bool {
        if abs(a.h - b.h) < 1e-9, abs(a.w - b.w) < 1e-9, abs(a.c - b.c) < 1e-9 { return true }
        guard let fixed = fixedInputSize else { return false }
        return abs(a.value(height: fixed.height, width: fixed.width) - b.value(height: fixed.height, width: fixed.width))
            < 1e-9
    }

    /// `Cast`: feature maps stay float; numbers keep their value (truncated toward zero when cast to an integer).
    mutating func cast(_ node: ONNXNode) throws {
        let to = int(node, "to", default: 1)
        let toInteger = [2, 3, 4, 5, 6, 7, 9, 12, 13].contains(to)
        switch try input(node, 0) {
        case .sizes(let sizes, let scalar):
            define(
                node,
                .sizes(
                    toInteger ? sizes.map { $0.constantValue.map { .constant($0.rounded(.towardZero)) } ?? $0 } : sizes,
                    scalar: scalar))
        case .floats(let array):
            if toInteger, array.shape.count <= 1 {
                define(node, .sizes(array.asInts.map { .constant(Double($0)) }, scalar: array.shape.isEmpty))
            } else {
                define(node, .floats(array))
            }
        case let value:
            guard [1, 10, 11, 16].contains(to) else { throw unsupported(node, "casting a feature map to type \(to)") }
            define(node, value)
        }
    }

    /// The NCHW dimensions of a value.
    func dims(of value: Value, _ node: ONNXNode) throws(ModelError) -> [SymbolicSize] {
        switch value {
        case .map(_, let shape): return shape.dims
        case .padded(_, let shape, let pads):
            let v = shape.dims
            return [v[0], v[1], v[2] + .constant(Double(pads[0] + pads[2])), v[3] + .constant(Double(pads[1] + pads[3]))]
        case .folded(let folded): return folded.permutation.map { folded.dims[$0] }
        case .floats(let array): return array.shape.map { .constant(Double($0)) }
        case .sizes(let sizes, let scalar): return scalar ? [] : [.constant(Double(sizes.count))]
        }
    }

    /// `Shape` (with `start`/`end` from opset 15).
    mutating func shape(_ node: ONNXNode) throws {
        let all = try dims(of: try input(node, 0), node)
        let rank = all.count
        func clamp(_ index: Int) -> Int { min(max(index < 0 ? index + rank : index, 0), rank) }
        let start = clamp(int(node, "start", default: 0))
        let end = clamp(int(node, "end", default: rank))
        define(node, .sizes(start < end ? Array(all[start..<end]) : [], scalar: false))
    }

    /// `Gather` along axis 0 of numbers, with a scalar or 1-D index.
    mutating func gather(_ node: ONNXNode) throws {
        guard case .sizes(let data, false) = try input(node, 0) else {
            throw unsupported(node, "gathering from anything but a 1-D list of sizes")
        }
        guard int(node, "axis", default: 0) == 0 else { throw unsupported(node, "an axis other than 0") }
        guard case .sizes(let indices, let scalar) = try input(node, 1) else {
            throw unsupported(node, "indices that are not constant integers")
        }
        var picked: [SymbolicSize] = []
        for index in indices {
            guard var i = index.integer else { throw unsupported(node, "an index that depends on the image size") }
            if i < 0 { i += data.count }
            guard data.indices.contains(i) else { throw malformed(node, "index \(i) outside \(data.count) values") }
            picked.append(data[i])
        }
        define(node, .sizes(picked, scalar: scalar))
    }

    /// `Unsqueeze`/`Squeeze` of numbers (a scalar ↔ a one-element list) or of a constant (its shape only).
    mutating func squeeze(_ node: ONNXNode) throws {
        let axes = try ints(node, "axes") ?? constantInts(node, 1)
        let unsqueeze = node.opType == "Unsqueeze"
        switch try input(node, 0) {
        case .sizes(let sizes, let scalar):
            if unsqueeze {
                guard scalar, axes == [0] || axes == [-1] else { throw unsupported(node, "unsqueezing a list") }
                define(node, .sizes(sizes, scalar: false))
            } else {
                guard !scalar, sizes.count == 1, axes == nil || axes == [0] || axes == [-1] else {
                    throw unsupported(node, "squeezing a list of \(sizes.count)")
                }
                define(node, .sizes(sizes, scalar: true))
            }
        case .floats(var array):
            var shape = array.shape
            if unsqueeze {
                guard let axes else { throw malformed(node, "Unsqueeze without axes") }
                let rank = shape.count + axes.count
                for axis in axes.map({ $0 < 0 ? $0 + rank : $0 }).sorted() {
                    guard (0...shape.count).contains(axis) else { throw malformed(node, "axis \(axis)") }
                    shape.insert(1, at: axis)
                }
            } else {
                let rank = shape.count
                let dropped = Set((axes ?? shape.indices.filter { shape[$0] == 1 }).map { $0 < 0 ? $0 + rank : $0 })
                guard dropped.allSatisfy({ shape.indices.contains($0) && shape[$0] == 1 }) else {
                    throw malformed(node, "squeezing an axis that is not 1")
                }
                shape = shape.indices.filter { !dropped.contains($0) }.map { shape[$0] }
            }
            array.shape = shape
            define(node, .floats(array))
        case .map(let id, var shape) where shape.rank == 4 && !unsqueeze && Set(axes ?? []) == [2, 3]:
            // A pooled [1, C, 1, 1] map squeezed to [1, C] (before a fully connected layer).
            guard shape.height.integer == 1, shape.width.integer == 1 else {
                throw unsupported(node, "squeezing the height and width of a map larger than 1 × 1")
            }
            shape.rank = 2
            define(node, .map(id, shape))
        case .map(let id, var shape) where shape.rank == 2 && unsqueeze && Set(axes ?? []) == [2, 3]:
            shape.rank = 4
            define(node, .map(id, shape))
        default:
            throw unsupported(node, "changing the axes of a feature map this way")
        }
    }

    /// `Concat`: of feature maps along the channels, of number lists, or of constants.
    mutating func concat(_ node: ONNXNode) throws {
        let operands = try node.inputs.indices.map { index throws(ModelError) in try input(node, index) }
        if operands.allSatisfy({ if case .sizes = $0 { true } else { false } }) {
            var all: [SymbolicSize] = []
            for case .sizes(let sizes, _) in operands { all += sizes }
            define(node, .sizes(all, scalar: false))
            return
        }
        let axis = int(node, "axis", default: 1)
        guard axis == 1 || axis == -3 else { throw unsupported(node, "concatenating maps along axis \(axis)") }
        var ids: [NodeID] = []
        var channels = 0
        var first: MapShape?
        for index in node.inputs.indices {
            let (id, shape) = try mapInput(node, index)
            guard shape.rank == 4 else { throw unsupported(node, "concatenating flattened vectors") }
            if let first, !same(first.height, shape.height) || !same(first.width, shape.width) {
                throw malformed(node, "maps of different sizes (\(first.height)×\(first.width), \(shape.height)×\(shape.width))")
            }
            first = first ?? shape
            ids.append(id)
            channels += shape.channels
        }
        guard var shape = first else { throw malformed(node, "Concat without inputs") }
        shape.channels = channels
        if ids.count == 1 { define(node, .map(ids[0], shape)) } else { defineMap(node, .concatenate, ids, shape) }
    }

    /// `Slice`: of number lists (axis 0), or of a feature map's height, width (a crop) or channels.
    mutating func slice(_ node: ONNXNode) throws {
        let value = try input(node, 0)
        let starts: [Int]
        let ends: [SymbolicSize]
        var axes: [Int]?
        var steps: [Int]?
        if opset < 10 {
            starts = ints(node, "starts") ?? []
            ends = (ints(node, "ends") ?? []).map { .constant(Double($0)) }
            axes = ints(node, "axes")
        } else {
            starts = try constantInts(node, 1) ?? []
            guard case .sizes(let endSizes, _) = try input(node, 2) else { throw unsupported(node, "non-integer ends") }
            ends = endSizes
            axes = try constantInts(node, 3)
            steps = try constantInts(node, 4)
        }
        guard starts.count == ends.count, axes.map({ $0.count == starts.count }) ?? true,
            steps.map({ $0.count == starts.count }) ?? true
        else { throw malformed(node, "starts, ends, axes and steps of different lengths") }
        guard (steps ?? []).allSatisfy({ $0 == 1 }) else { throw unsupported(node, "steps other than 1") }
        let dims = try dims(of: value, node)
        let axisList = (axes ?? Array(starts.indices)).map { $0 < 0 ? $0 + dims.count : $0 }
        // Each sliced axis as (start, end) sizes, clamped as ONNX clamps them.
        var bounds: [Int: (SymbolicSize, SymbolicSize)] = [:]
        for (k, axis) in axisList.enumerated() {
            guard dims.indices.contains(axis) else { throw malformed(node, "axis \(axis) of a rank-\(dims.count) value") }
            let length = dims[axis]
            func resolve(_ s: SymbolicSize) -> SymbolicSize {
                guard let v = s.constantValue else { return s }
                if v < 0 { return length + .constant(v) }
                if let n = length.constantValue { return .constant(min(v, n)) }
                return v >= Double(1 << 30) ? length : s
            }
            bounds[axis] = (resolve(.constant(Double(starts[k]))), resolve(ends[k]))
        }
        switch value {
        case .sizes(let sizes, false):
            guard let (start, end) = bounds[0], let a = start.integer, let b = end.integer else {
                throw unsupported(node, "slicing a list of sizes by bounds that depend on the image size")
            }
            define(node, .sizes(a < b ? Array(sizes[max(a, 0)..<min(b, sizes.count)]) : [], scalar: false))
        case .map, .padded:
            let (id, shape) = try mapInput(node, 0)
            guard bounds[0] == nil else { throw unsupported(node, "slicing the batch axis") }
            var result = id
            var outShape = shape
            if let (start, end) = bounds[1] {
                guard let a = start.integer, let b = end.integer, 0 <= a, a < b, b <= shape.channels else {
                    throw unsupported(node, "a channel slice \(start)..<\(end) of \(shape.channels) channels")
                }
                result = channelSelection(result, from: shape.channels, picking: Array(a..<b), name: node.label)
                outShape.channels = b - a
            }
            var crop = (top: 0, left: 0, bottom: 0, right: 0)
            for (axis, length) in [(2, shape.height), (3, shape.width)] {
                guard let (start, end) = bounds[axis] else { continue }
                guard let before = start.integer, let after = (length - end).integer, before >= 0, after >= 0 else {
                    throw unsupported(node, "a crop of \(start)..<\(end) from \(length) that depends on the image size")
                }
                if axis == 2 { (crop.top, crop.bottom) = (before, after) } else { (crop.left, crop.right) = (before, after) }
                if axis == 2 { outShape.height = end - start } else { outShape.width = end - start }
            }
            if crop != (0, 0, 0, 0) {
                result = graph.add(
                    node.label, .crop(top: crop.top, left: crop.left, bottom: crop.bottom, right: crop.right), [result])
            }
            define(node, .map(result, outShape))
        default:
            throw unsupported(node, "slicing this value")
        }
    }

    /// A 1 × 1 convolution that keeps channels `picked` of a `channels`-channel map, in that order: a channel slice,
    /// split or permutation, exact in float32 (each output is 1·x plus zeros).
    mutating func channelSelection(_ input: NodeID, from channels: Int, picking picked: [Int], name: String) -> NodeID {
        var hwio = [Float](repeating: 0, count: channels * picked.count)
        for (o, i) in picked.enumerated() { hwio[i * picked.count + o] = 1 }
        return convolutionNode(
            name + "/select",
            ConvolutionGeometry(
                kernelHeight: 1, kernelWidth: 1, inputChannels: channels, outputChannels: picked.count, padTop: 0,
                padLeft: 0, padBottom: 0, padRight: 0),
            input: input, weights: hwio, bias: nil)
    }

    /// Adds a convolution with HWIO `weights`.
    mutating func convolutionNode(
        _ name: String, _ geometry: ConvolutionGeometry, input: NodeID, weights: [Float], bias: [Float]?
    ) -> NodeID {
        graph.addConvolution(name, input: input, geometry: geometry, weights: weights, bias: bias)
    }

    /// The target of a Reshape: 0 copies the input's axis (unless `allowzero`), at most one −1 is inferred.
    func reshapeTarget(_ node: ONNXNode, input dims: [SymbolicSize]) throws -> [SymbolicSize?] {
        if node.opType == "Flatten" {
            let axis = int(node, "axis", default: 1)
            guard axis == 1 else { throw unsupported(node, "flattening from axis \(axis)") }
            return [dims.first, nil]
        }
        guard case .sizes(let target, false) = try input(node, 1) else {
            throw unsupported(node, "a target shape that is not a list of integers")
        }
        let allowZero = int(node, "allowzero", default: 0) != 0
        var result: [SymbolicSize?] = []
        for (index, size) in target.enumerated() {
            if size.integer == 0, !allowZero {
                guard dims.indices.contains(index) else { throw malformed(node, "0 copies a missing axis \(index)") }
                result.append(dims[index])
            } else if size.integer == -1 {
                result.append(nil)
            } else {
                result.append(size)
            }
        }
        guard result.filter({ $0 == nil }).count <= 1 else { throw malformed(node, "more than one −1 in \(target)") }
        return result
    }

    /// Whether `target` (nil: the inferred axis) spells `expected`.
    func matches(_ target: [SymbolicSize?], _ expected: [SymbolicSize]) -> Bool {
        target.count == expected.count && zip(target, expected).allSatisfy { t, e in t.map { same($0, e) } ?? true }
    }

    /// `Reshape`/`Flatten`: constants change shape; a map may be folded into six axes (the start of a pixel
    /// shuffle), a folded and permuted map unfolded back to four, or a pooled map flattened to `[1, C]` and back.
    mutating func reshape(_ node: ONNXNode) throws {
        let value = try input(node, 0)
        let dims = try dims(of: value, node)
        let target = try reshapeTarget(node, input: dims)
        switch value {
        case .floats(var array):
            let known = target.compactMap { $0?.integer }
            let product = known.reduce(1, *)
            guard known.count >= target.count - 1, product > 0, array.count % product == 0 else {
                throw malformed(node, "reshaping \(array.shape) to \(target)")
            }
            array.shape = target.map { $0?.integer ?? array.count / product }
            guard array.shape.reduce(1, *) == array.count else { throw malformed(node, "reshaping to \(array.shape)") }
            define(node, .floats(array))
        case .map, .padded:
            let (id, shape) = try mapInput(node, 0)
            if matches(target, shape.dims) {
                define(node, .map(id, shape))
            } else if shape.rank == 4, shape.height.integer == 1, shape.width.integer == 1,
                matches(target, [.constant(1), .constant(Double(shape.channels))])
            {
                define(node, .map(id, MapShape(channels: shape.channels, height: .constant(1), width: .constant(1), rank: 2)))
            } else if shape.rank == 2, matches(target, [.constant(1), .constant(Double(shape.channels)), .constant(1), .constant(1)]) {
                define(node, .map(id, MapShape(channels: shape.channels, height: .constant(1), width: .constant(1))))
            } else if target.count == 6, shape.rank == 4 {
                // The six axes must multiply back to the map's: resolved against the shuffle patterns below.
                let resolved = try foldedAxes(node, target: target, shape: shape)
                define(node, .folded(ONNXImporter.Folded(node: id, shape: shape, dims: resolved, permutation: Array(0..<6))))
            } else {
                throw unsupported(node, "reshaping a \(shape.dims) feature map to \(target.map { $0.map(\.description) ?? "-1" })")
            }
        case .folded(let folded):
            let (id, shape) = try unfold(node, folded, target: target)
            define(node, .map(id, shape))
        case .sizes(let sizes, _):
            guard target.count <= 1 else { throw unsupported(node, "reshaping sizes to rank \(target.count)") }
            define(node, .sizes(sizes, scalar: target.isEmpty))
        }
    }

    /// The six axes of a map folded for a pixel shuffle (`[1, C, r, r, H, W]`, `[1, r, r, C, H, W]`) or unshuffle
    /// (`[1, C, H/r, r, W/r, r]`), the inferred axis filled in.
    func foldedAxes(_ node: ONNXNode, target: [SymbolicSize?], shape: MapShape) throws -> [SymbolicSize] {
        let c = Double(shape.channels)
        let one = SymbolicSize.constant(1)
        var candidates: [[SymbolicSize]] = []
        for r in 2...16 {
            let rr = Double(r * r)
            let block = SymbolicSize.constant(Double(r))
            if shape.channels % (r * r) == 0 {
                let inner = SymbolicSize.constant(c / rr)
                candidates.append([one, inner, block, block, shape.height, shape.width])
                candidates.append([one, block, block, inner, shape.height, shape.width])
            }
            candidates.append([
                one, .constant(c), shape.height.scaled(1 / Double(r)), block, shape.width.scaled(1 / Double(r)), block,
            ])
        }
        guard let found = candidates.first(where: { matches(target, $0) }) else {
            throw unsupported(
                node,
                "reshaping a \(shape.dims) feature map to \(target.map { $0.map(\.description) ?? "-1" }): only the "
                    + "six axes of a pixel shuffle or unshuffle are read")
        }
        return found
    }

    /// The map a folded, permuted map becomes when reshaped back to four axes.
    mutating func unfold(_ node: ONNXNode, _ folded: ONNXImporter.Folded, target: [SymbolicSize?]) throws -> (NodeID, MapShape) {
        let d = folded.dims
        let p = folded.permutation
        let shape = folded.shape
        guard target.count == 4 else { throw unsupported(node, "a folded map reshaped to rank \(target.count)") }
        // [1, C, r, r, H, W] · (0, 1, 4, 2, 5, 3) → [1, C, H·r, W·r]: PyTorch's PixelShuffle (CRD).
        if let r = d[2].integer, d[3].integer == r, p == [0, 1, 4, 2, 5, 3], same(d[4], shape.height),
            let inner = d[1].integer
        {
            let out = MapShape(channels: inner, height: shape.height.scaled(Double(r)), width: shape.width.scaled(Double(r)))
            guard matches(target, out.dims) else { throw unsupported(node, "a pixel shuffle reshaped to \(target)") }
            return (graph.add(node.label, .pixelShuffle(blockSize: r), [folded.node]), out)
        }
        // [1, r, r, C, H, W] · (0, 3, 4, 1, 5, 2) → [1, C, H·r, W·r]: DepthToSpace (DCR).
        if let r = d[1].integer, d[2].integer == r, p == [0, 3, 4, 1, 5, 2], same(d[4], shape.height),
            let inner = d[3].integer
        {
            let out = MapShape(channels: inner, height: shape.height.scaled(Double(r)), width: shape.width.scaled(Double(r)))
            guard matches(target, out.dims) else { throw unsupported(node, "a depth-to-space reshaped to \(target)") }
            return (graph.add(node.label, .depthToSpace(blockSize: r), [folded.node]), out)
        }
        // [1, C, H/r, r, W/r, r] · (0, 1, 3, 5, 2, 4) → [1, C·r², H/r, W/r]: PyTorch's pixel_unshuffle, channel
        // c·r² + ry·r + rx; · (0, 3, 5, 1, 2, 4) → SpaceToDepth's (ry·r + rx)·C + c.
        if let r = d[3].integer, d[5].integer == r, p == [0, 1, 3, 5, 2, 4] || p == [0, 3, 5, 1, 2, 4] {
            let c = shape.channels
            let out = MapShape(channels: c * r * r, height: d[2], width: d[4])
            guard matches(target, out.dims) else { throw unsupported(node, "a pixel unshuffle reshaped to \(target)") }
            let folded = graph.add(node.label + "/space-to-depth", .spaceToDepth(blockSize: r), [folded.node])
            if p == [0, 3, 5, 1, 2, 4] { return (folded, out) }
            // Output channel c·r² + k reads SpaceToDepth's channel k·C + c.
            let picked = (0..<(c * r * r)).map { ($0 % (r * r)) * c + $0 / (r * r) }
            return (channelSelection(folded, from: c * r * r, picking: picked, name: node.label), out)
        }
        throw unsupported(node, "a Reshape/Transpose chain other than a pixel shuffle or unshuffle (permutation \(p))")
    }

    /// `Transpose`: of a folded map (part of a shuffle chain), or of a constant.
    mutating func transpose(_ node: ONNXNode) throws {
        switch try input(node, 0) {
        case .folded(var folded):
            let perm = ints(node, "perm") ?? Array((0..<6).reversed())
            guard perm.sorted() == Array(0..<6) else { throw malformed(node, "permutation \(perm)") }
            folded.permutation = perm.map { folded.permutation[$0] }
            define(node, .folded(folded))
        case .floats(let array):
            let rank = array.shape.count
            let perm = ints(node, "perm") ?? Array((0..<rank).reversed())
            guard perm.sorted() == Array(0..<rank) else { throw malformed(node, "permutation \(perm)") }
            let transposed = ReferenceKernels.transpose(
                Tensor(shape: array.shape, scalars: array.floats), permutation: perm)
            define(node, .floats(ONNXArray(shape: transposed.shape, floats: transposed.scalars)))
        case .map(_, let shape) where ints(node, "perm") == [0, 1, 2, 3] || shape.rank == 2 && ints(node, "perm") == [0, 1]:
            define(node, try input(node, 0))
        case .map(let id, var shape) where shape.rank == 4 && !shape.channelsLast && ints(node, "perm") == [0, 2, 3, 1]:
            // NCHW → NHWC: the engine's layout already; the ONNX axes change.
            shape.channelsLast = true
            define(node, .map(id, shape))
        case .map(let id, var shape) where shape.rank == 4 && shape.channelsLast && ints(node, "perm") == [0, 3, 1, 2]:
            shape.channelsLast = false
            define(node, .map(id, shape))
        default:
            throw unsupported(
                node, "transposing a feature map (to and from channels-last, and pixel shuffle chains, are read)")
        }
    }

    /// `ConstantOfShape` with a constant shape.
    mutating func constantOfShape(_ node: ONNXNode) throws {
        guard let shape = try constantInts(node, 0), shape.allSatisfy({ $0 >= 0 }) else {
            throw unsupported(node, "a shape that depends on the image size")
        }
        let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        guard count <= 1 << 20 else { throw unsupported(node, "a constant of \(shape) elements") }
        let value = try node.attributes["value"]?.tensor?.values(externalFolder: folder)
        let array = value ?? ONNXArray(shape: [1], floats: [0])
        if array.isInteger {
            define(node, Self.constantValue(ONNXArray(shape: shape, ints: Array(repeating: array.ints.first ?? 0, count: count))))
        } else {
            define(node, .floats(ONNXArray(shape: shape, floats: Array(repeating: array.floats.first ?? 0, count: count))))
        }
    }

    /// `Floor`, `Ceil`, `Sqrt` of numbers (a scale computed from sizes); of sizes that depend on the image only
    /// when they are whole already.
    mutating func roundSizes(_ node: ONNXNode) throws {
        func apply(_ x: Double) -> Double {
            switch node.opType {
            case "Floor": x.rounded(.down)
            case "Ceil": x.rounded(.up)
            default: x.squareRoot()
            }
        }
        switch try input(node, 0) {
        case .sizes(let sizes, let scalar):
            var out: [SymbolicSize] = []
            for size in sizes {
                if let v = size.constantValue {
                    out.append(.constant(apply(v)))
                } else if node.opType != "Sqrt", size.h == size.h.rounded(), size.w == size.w.rounded(),
                    size.c == size.c.rounded()
                {
                    out.append(size)
                } else {
                    throw unsupported(node, "\(node.opType) of \(size), which depends on the image size")
                }
            }
            define(node, .sizes(out, scalar: scalar))
        case .floats(var array):
            array.floats = array.floats.map { Float(apply(Double($0))) }
            define(node, .floats(array))
        default:
            throw unsupported(node, "\(node.opType) of a feature map")
        }
    }

    /// Element-wise arithmetic of numbers (shape arithmetic), with scalar broadcasting.
    func sizeArithmetic(_ node: ONNXNode, _ a: [SymbolicSize], _ b: [SymbolicSize]) throws -> [SymbolicSize] {
        guard a.count == b.count || a.count == 1 || b.count == 1 else {
            throw malformed(node, "\(a.count) and \(b.count) values do not broadcast")
        }
        return try (0..<max(a.count, b.count)).map { index in
            let x = a[a.count == 1 ? 0 : index]
            let y = b[b.count == 1 ? 0 : index]
            let result: SymbolicSize?
            switch node.opType {
            case "Add": result = x + y
            case "Sub": result = x - y
            case "Mul": result = x.times(y)
            case "Div":
                // Integer division truncates; a float scale (from a Cast) divides exactly.
                let whole = x.integer != nil && y.integer != nil
                result = x.divided(by: y, integer: whole)
            case "Max", "Min":
                guard let u = x.constantValue, let v = y.constantValue else { result = nil; break }
                result = .constant(node.opType == "Max" ? max(u, v) : min(u, v))
            case "Pow":
                guard let u = x.constantValue, let v = y.constantValue else { result = nil; break }
                result = .constant(Foundation.pow(u, v))
            default: result = nil
            }
            guard let result else { throw unsupported(node, "\(node.opType) of sizes \(x) and \(y)") }
            return result
        }
    }
}
