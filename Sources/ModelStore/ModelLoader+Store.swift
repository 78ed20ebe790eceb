import Models
import Engine
import Kernels

extension ModelLoader {
    /// Loads a model given as a file path or as a catalogue name (`espcn-x2`) installed in the store
    /// (`ModelStore.locate`, in `store`). For a name, the catalogue's family is used unless one is stated; a stated
    /// scale must fit. A model added with `superres models add` is read with the convention stored with it, unless
    /// one is stated.
    package static func load(
        nameOrPath: String,
        family stated: ModelFamily? = nil,
        scale statedScale: Int? = nil,
        kernels: KernelChoice = .fast,
        precision: Precision = .fp32,
        convention statedConvention: ONNXConvention? = nil,
        store: String = ModelStore.directory()
    ) throws(ModelError) -> SuperResolutionModel {
        let path = try ModelStore.locate(nameOrPath, in: store)
        guard path != nameOrPath, let entry = ModelCatalogue.entry(named: nameOrPath) else {
            let added = path != nameOrPath ? UserModels.named(nameOrPath, in: store) : nil
            return try load(
                path: path, family: stated, scale: statedScale, kernels: kernels, precision: precision,
                convention: statedConvention ?? added?.convention ?? .standard)
        }
        return try load(
            path: path, family: stated ?? entry.family, scale: statedScale, kernels: kernels, precision: precision)
    }
}
