import Tensor

extension GraphDef {
    /// The float32 weights a `Dequantize` node produces from its three constant inputs, folded as OpenCV's TensorFlow
    /// importer does at load time (see `QuantizedWeights`), with the same checks: three inputs, all `Const`; attribute
    /// `mode` is `"MIN_FIRST"`; the first input is `DT_QUINT8`; `min` and `max` are single `DT_FLOAT` values.
    ///
    /// The result has the quantized tensor's shape (for weights, HWIO).
    package func dequantizedTensor(_ node: NodeDef) throws(GraphDefError) -> Tensor {
        guard node.op == "Dequantize" else {
            throw .badNode(node: node.name, reason: "is a \(node.op), not a Dequantize")
        }
        guard node.inputs.count == 3 else {
            throw .badNode(node: node.name, reason: "Dequantize needs 3 inputs, has \(node.inputs.count)")
        }
        guard node.attributes["mode"]?.string == "MIN_FIRST" else {
            throw .badNode(node: node.name, reason: "only Dequantize mode MIN_FIRST is supported")
        }
        let constants = try node.inputs.map { (input) throws(GraphDefError) -> TensorProto in
            guard let tensor = self.node(named: input).flatMap({ $0.op == "Const" ? $0.constantValue : nil }) else {
                throw .badNode(node: node.name, reason: "input '\(input)' is not a Const node of this graph")
            }
            return tensor
        }
        let quantized = constants[0]
        guard quantized.dtype == .quint8 else {
            throw .badTensor(node: quantized.node, reason: "Dequantize input is \(quantized.dtype), not DT_QUINT8")
        }
        var range: [Float] = []
        for bound in constants[1...] {
            let values = try bound.floatValues()
            guard bound.dtype == .float, values.count == 1 else {
                throw .badTensor(node: bound.node, reason: "a Dequantize range must be one DT_FLOAT value")
            }
            range.append(values[0])
        }
        let values = try QuantizedWeights.dequantizeMinFirst(
            try quantized.uint8Values(),
            min: range[0],
            max: range[1],
            node: node.name
        )
        return Tensor(shape: quantized.shapeDims, scalars: values)
    }
}
