import Foundation

/// A TensorFlow `GraphDef` (tensorflow/core/framework/graph.proto): the nodes of a frozen graph, as OpenCV's
/// dnn_superres models store them in their `.pb` files.
///
/// Only `node` is kept; `versions`, `library` and any other field are skipped (their length checked, their contents
/// not read).
/// Reading checks every constant tensor (shape, element count, content length), so a graph that reads without error
/// can have its tensors decoded without surprises.
package struct GraphDef: Sendable, Equatable {
    /// The nodes, in file order (field `node`).
    package var nodes: [NodeDef]

    /// A graph with these nodes.
    package init(nodes: [NodeDef] = []) {
        self.nodes = nodes
    }

    /// The most values all of a graph's tensors may imply beyond what they store: 16 M (64 MB of floats), far above
    /// what real graphs fill in (small constant vectors), far below what would exhaust memory.
    static let maxImpliedElements = 16 << 20

    /// Reads a serialized GraphDef.
    ///
    /// Errors inside a node come wrapped in `GraphDefError.inNode`; tensor errors name their node.
    package init(serializedBytes bytes: [UInt8]) throws(GraphDefError) {
        self.init()
        var reader = ProtobufReader(bytes: bytes)
        var impliedElements = 0
        while let field = try reader.nextField() {
            guard field.number == 1 else {
                try reader.skip(field)  // library (2), version (3), versions (4), debug_info (5)
                continue
            }
            var node = NodeDef(name: "", op: "")
            do {
                var nodeReader = try reader.readMessage(field)
                try node.read(from: &nodeReader)
            } catch {
                throw .inNode(index: nodes.count, name: node.name, underlying: error)
            }
            try node.validateTensors()
            // A tensor that stores fewer values than its shape holds is filled out (TensorFlow's rule), so a few bytes
            // can stand for a gigabyte; the whole graph may imply only a bounded number of values it does not store.
            impliedElements += node.impliedElementCount
            guard impliedElements <= Self.maxImpliedElements else {
                throw .badTensor(
                    node: node.name,
                    reason: "the graph's tensors imply more than \(Self.maxImpliedElements) values that the file does "
                        + "not store (shapes much larger than their data)"
                )
            }
            nodes.append(node)
        }
    }

    /// Reads a GraphDef file (a frozen-graph `.pb`). Every error names the file.
    package init(contentsOf path: String) throws(GraphDefError) {
        let bytes: [UInt8]
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
            // Protobuf messages are limited to 2 GiB; refuse larger files before copying them.
            guard data.count <= Int(Int32.max) else {
                throw GraphDefError.unreadable(path: path, reason: "\(data.count) bytes is more than a GraphDef holds")
            }
            bytes = [UInt8](data)
        } catch let error as GraphDefError {
            throw error
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        do {
            try self.init(serializedBytes: bytes)
        } catch {
            throw .inFile(path: path, underlying: error)
        }
    }

    /// The first node with this name, or nil. An input reference `name:0` finds `name`.
    package func node(named name: String) -> NodeDef? {
        let bare = name.hasSuffix(":0") ? String(name.dropLast(2)) : name
        return nodes.first { $0.name == bare }
    }

    /// How many nodes of each op type the graph has.
    package var opCounts: [String: Int] {
        nodes.reduce(into: [:]) { counts, node in counts[node.op, default: 0] += 1 }
    }
}
