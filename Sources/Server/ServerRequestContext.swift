import Hummingbird
import NIOCore

/// The request context of superres's routes: Hummingbird's core context and the client's connection, so that work
/// for a client that has gone away can be stopped.
public struct ServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's connection.
    let channel: any Channel

    /// A context for a request that arrived on `source.channel`.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
