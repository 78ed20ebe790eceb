import NIOCore
import Synchronization

/// Counts the open connections of the server; one handler of `ConnectionLimiter.Handler` per connection.
final class ConnectionLimiter: Sendable {
    /// The most connections open at once; more are closed as they arrive.
    let capacity: Int
    private let open = Atomic<Int>(0)

    /// A limiter allowing `capacity` connections.
    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Connections open now.
    var current: Int { open.load(ordering: .relaxed) }

    /// The handler for one new connection.
    func handler() -> Handler { Handler(limiter: self) }

    /// Admits its connection when it is added to the pipeline, or closes it at once when the server is full; gives
    /// the place back when the connection ends.
    final class Handler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
        typealias InboundIn = NIOAny

        private let limiter: ConnectionLimiter
        private let admitted = Atomic<Bool>(false)

        init(limiter: ConnectionLimiter) {
            self.limiter = limiter
        }

        func handlerAdded(context: ChannelHandlerContext) {
            let count = limiter.open.wrappingAdd(1, ordering: .relaxed).newValue
            admitted.store(true, ordering: .relaxed)
            if count > limiter.capacity { context.close(promise: nil) }
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            if admitted.exchange(false, ordering: .relaxed) {
                limiter.open.wrappingSubtract(1, ordering: .relaxed)
            }
        }
    }
}
