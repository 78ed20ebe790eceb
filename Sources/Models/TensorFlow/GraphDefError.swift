/// Why a TensorFlow GraphDef (or one of its tensors) could not be read.
///
/// The wire-format reader throws the first three cases with the byte offset where reading failed; the GraphDef
/// decoder wraps them in `inNode` (which node was being read) and `GraphDef(contentsOf:)` wraps everything in
/// `inFile`. `root` strips the wrappers.
package enum GraphDefError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The data ends inside a field (or a length points past the end of its message).
    case truncated(offset: Int, reason: String)
    /// The bytes are not valid wire format or not a valid GraphDef (bad tag, wire type, varint, UTF-8, …).
    case malformed(offset: Int, reason: String)
    /// Messages or groups nest deeper than `limit`.
    case tooDeep(offset: Int, limit: Int)
    /// A tensor's shape holds more than `limit` elements (or its element count overflows).
    case tooLarge(node: String, dims: [Int64], limit: Int)
    /// A tensor is inconsistent: negative dimension, content length not matching its shape, unreadable dtype, ….
    case badTensor(node: String, reason: String)
    /// A node's inputs or attributes do not allow what was asked of it (e.g. folding a `Dequantize`).
    case badNode(node: String, reason: String)
    /// The file could not be read at all.
    case unreadable(path: String, reason: String)
    /// An error met while reading node number `index` (0-based) of the graph; `name` is empty if not read yet.
    indirect case inNode(index: Int, name: String, underlying: GraphDefError)
    /// An error met while reading the file at `path`.
    indirect case inFile(path: String, underlying: GraphDefError)

    /// The error without its `inNode`/`inFile` context.
    package var root: GraphDefError {
        switch self {
        case .inNode(_, _, let underlying), .inFile(_, let underlying): underlying.root
        default: self
        }
    }

    /// A short, stable name of the case, e.g. for logs and exit codes.
    package var code: String {
        switch self {
        case .truncated: "truncated"
        case .malformed: "malformed"
        case .tooDeep: "too-deep"
        case .tooLarge: "too-large"
        case .badTensor: "bad-tensor"
        case .badNode: "bad-node"
        case .unreadable: "unreadable"
        case .inNode(_, _, let underlying), .inFile(_, let underlying): underlying.code
        }
    }

    /// A one-line message naming the file, node or byte offset concerned.
    package var description: String {
        switch self {
        case .truncated(let offset, let reason):
            "truncated GraphDef at byte \(offset): \(reason)"
        case .malformed(let offset, let reason):
            "malformed GraphDef at byte \(offset): \(reason)"
        case .tooDeep(let offset, let limit):
            "GraphDef nests messages or groups more than \(limit) deep at byte \(offset)"
        case .tooLarge(let node, let dims, let limit):
            "node '\(node)': a tensor of shape \(dims) has more than \(limit) elements"
        case .badTensor(let node, let reason):
            "node '\(node)': bad tensor: \(reason)"
        case .badNode(let node, let reason):
            "node '\(node)': \(reason)"
        case .unreadable(let path, let reason):
            "cannot read \(path): \(reason)"
        case .inNode(let index, let name, let underlying):
            name.isEmpty
                ? "in node #\(index): \(underlying)"
                : "in node #\(index) '\(name)': \(underlying)"
        case .inFile(let path, let underlying):
            "\(path): \(underlying)"
        }
    }
}
