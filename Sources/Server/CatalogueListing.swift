import ModelStore
import Models

/// A model of the catalogue as `GET /api/v1/models` lists it: what could be served with `--model NAME`.
struct CatalogueListing: Encodable, Sendable {
    var name: String
    var family: String
    var scale: Int
    var summary: String
    /// photo or drawing: the pictures it was trained for.
    var content: String
    /// Whether its files are in the model store (`superres models pull NAME` puts them there).
    var installed: Bool
    /// Whether this server has it loaded (only loaded models can be asked for).
    var loaded: Bool

    /// Every catalogue entry with its state in the model store (existence and sizes only; blocking).
    static func current(loaded models: ModelRegistry) -> [CatalogueListing] {
        let directory = ModelStore.directory()
        return ModelCatalogue.all.map { entry in
            let path = ModelStore.path(of: entry, in: directory)
            return CatalogueListing(
                name: entry.name,
                family: entry.family.rawValue,
                scale: entry.scale,
                summary: entry.summary,
                content: entry.content.rawValue,
                installed: ModelStore.state(of: entry, in: directory) == .installed,
                loaded: models.models.contains { $0.paths.contains(path) || $0.name == entry.name }
            )
        }
    }
}
