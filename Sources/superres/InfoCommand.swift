import ArgumentParser
import Foundation
import Models

/// `superres info MODEL`
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe a model file: family, scale, operations, parameters and cost per pixel.")

    @Argument(help: "Model: a catalogue name or a model file.")
    var model: String

    func run() throws {
        let loaded = try CommandLineFailure.reporting { try ModelLoader.load(nameOrPath: model) }
        let size = (try? FileManager.default.attributesOfItem(atPath: loaded.source)[.size] as? Int) ?? 0
        print("model:       \(loaded.source) (\(size) bytes)")
        print("family:      \(loaded.family.rawValue)")
        print("scale:       ×\(loaded.scale)")
        print("input:       \(loaded.inputChannels == 3 ? "BGR, 3 channels" : "Y (luma), 1 channel")")
        print("output:      \(loaded.outputName)")
        print("parameters:  \(loaded.parameterCount.formatted())")
        print("FLOPs/pixel: \(loaded.flopsPerInputPixel.formatted()) per input pixel (\(String(format: "%.2f", Double(loaded.flopsPerInputPixel) / 1e6)) MFLOP)")
        print("tile margin: \(loaded.tileMargin) input pixels (receptive field radius)")
        print("operations in the file:")
        for (op, count) in loaded.fileOperationCounts.sorted(by: { $0.key < $1.key }) {
            print("  \(op.padding(toLength: 14, withPad: " ", startingAt: 0)) \(count)")
        }
        print("after fusion:")
        for (op, count) in loaded.executor.graph.operationCounts.sorted(by: { $0.key < $1.key }) {
            print("  \(op.padding(toLength: 14, withPad: " ", startingAt: 0)) \(count)")
        }
    }
}
