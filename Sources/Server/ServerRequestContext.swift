import Hummingbird
import NIOCore

/// The request context of superres's routes: Hummingbird's core context and the client's connection, so that work
/// for a client that has gone away can be stopped.
package struct ServerRequestContext: RequestContext {
    /// Hummingbird's per-request storage: the request's logger, the matched endpoint path and its URI parameters.
    package var coreContext: CoreRequestContextStorage
    /// The client's connection.
    let channel: any Channel
    /// The name of the API key the request presented (nil when the server has no keys): the owner of the jobs it
    /// submits, and the only caller that may see them.
    var caller: String?

    /// A context for a request that arrived on `source.channel`.
    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
