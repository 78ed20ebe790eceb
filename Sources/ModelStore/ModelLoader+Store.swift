import Models
import Engine
import Kernels

extension ModelLoader {
    /// Loads a model given as a file path or as a catalogue name (`espcn-x2`) installed in the store
    /// (`ModelStore.locate`, in `store`). For a name, the catalogue's family is used unless one is stated; a stated
    /// scale must fit.
    package static func load(
        nameOrPath: String,
        family stated: ModelFamily? = nil,
        scale statedScale: Int? = nil,
        kernels: KernelChoice = .fast,
        precision: Precision = .fp32,
        store: String = ModelStore.directory()
    ) throws(ModelError) -> SuperResolutionModel {
        let path = try ModelStore.locate(nameOrPath, in: store)
        guard path != nameOrPath, let entry = ModelCatalogue.entry(named: nameOrPath) else {
            return try load(path: path, family: stated, scale: statedScale, kernels: kernels, precision: precision)
        }
        return try load(
            path: path, family: stated ?? entry.family, scale: statedScale, kernels: kernels, precision: precision)
    }
}
