/// Dequantization of the 8-bit weights that TensorFlow's `quantize_weights` transform leaves in a graph (a `DT_QUINT8`
/// Const, two float Consts `min` and `max`, and a `Dequantize` node in `MIN_FIRST` mode), done exactly as OpenCV's
/// TensorFlow importer folds them when it loads the model.
///
/// OpenCV 4.x, modules/dnn/src/tensorflow/tf_importer.cpp, `addConstNodes`, branch `type == "Dequantize"`:
///
/// ```cpp
/// float minVal = qMin.at<float>(0);
/// float rangeScale = (qMax.at<float>(0) - minVal) / 255;
/// CV_Assert(rangeScale >= 0);
/// content.convertTo(content, CV_32FC1, rangeScale, rangeScale * cvRound(minVal / rangeScale));
/// ```
///
/// Every step is float32: `rangeScale` and `minVal / rangeScale` are float divisions, `cvRound` rounds half to even
/// (SSE `cvtss2si`; NaN and out-of-range give `INT_MIN`), the offset `rangeScale * k` is a float product, and
/// `convertTo` from 8U to 32F computes `q * alpha + beta` in float with a fused multiply-add (its SIMD path
/// `v_fma`, modules/core/src/convert_scale.simd.hpp `cvt_32f`; measured bit-identical to OpenCV 4.14 on x86-64).
/// The unfused formula `round(min/scale)·scale + q·scale` (TensorFlow's, as the fixtures README writes it; its round
/// is half away from zero) differs from OpenCV in the last bits for 1316 of the 1944 weights of edsr_tiny_x3's
/// `resFilter_three`; superres follows OpenCV, its reference.
package enum QuantizedWeights {
    /// The scale and offset OpenCV folds a MIN_FIRST quint8 range into: `value = q * scale + offset`.
    ///
    /// Returns nil when OpenCV's `CV_Assert(rangeScale >= 0)` would fail (`max < min`, or a NaN).
    package static func minFirstParameters(min: Float, max: Float) -> (scale: Float, offset: Float)? {
        let rangeScale = (max - min) / 255
        guard rangeScale >= 0 else { return nil }
        let steps = cvRound(min / rangeScale)
        return (rangeScale, rangeScale * Float(steps))
    }

    /// Dequantizes MIN_FIRST quint8 values to float32 as OpenCV does: `fma(Float(q), scale, offset)` with the
    /// parameters of `minFirstParameters(min:max:)`.
    ///
    /// Throws `badTensor` (naming `node`) when the range is invalid (`max < min` or NaN), where OpenCV asserts.
    package static func dequantizeMinFirst(
        _ quantized: some Collection<UInt8>,
        min: Float,
        max: Float,
        node: String = ""
    ) throws(GraphDefError) -> [Float] {
        guard let (scale, offset) = minFirstParameters(min: min, max: max) else {
            throw .badTensor(node: node, reason: "Dequantize range min \(min), max \(max) is not a valid range")
        }
        // 256 possible inputs: compute each once (also makes the loop below a table lookup).
        let table = (0...255).map { offset.addingProduct(Float($0), scale) }
        return quantized.map { table[Int($0)] }
    }

    /// OpenCV's `cvRound(float)`: round half to even, as the x86 `cvtss2si` instruction does under the default
    /// rounding mode, including its "integer indefinite" result `INT_MIN` for NaN and values outside Int32.
    package static func cvRound(_ value: Float) -> Int32 {
        let rounded = value.rounded(.toNearestOrEven)
        guard rounded >= -2_147_483_648, rounded < 2_147_483_648 else { return Int32.min }  // also false for NaN
        return Int32(rounded)
    }
}
