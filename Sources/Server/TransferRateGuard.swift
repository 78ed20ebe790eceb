import HTTPTypes
import NIOHTTPTypes
import NIOCore

/// Closes a connection whose client sends a request (its header or body) slower than a minimum rate, as Apache's
/// mod_reqtimeout does: a request may spend `grace` plus one second per `minimumRate` bytes it has sent waiting for
/// the client. Only time the server is actually waiting counts: between requests the idle timeout applies, and while
/// the server holds a body back (backpressure, e.g. waiting for a queue place) the client is not to blame.
///
/// One guard per connection: this handler sits after the HTTP decoder (it sees where each request ends) and adds a
/// companion at the socket end of the pipeline (it sees the bytes and the server's reads).
final class TransferRateGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    /// Bytes a second a request must average, over the time the server waits for it, after its grace.
    let minimumRate: Int
    /// The waiting every request is allowed before the rate counts.
    let grace: TimeAmount
    /// How often the rule is checked.
    static let checkInterval = TimeAmount.milliseconds(250)

    /// Between requests, or receiving one: its bytes so far and the time spent waiting for them.
    private var receiving: (bytes: Int, waited: TimeAmount)?
    /// Since when the server has asked for bytes that have not come (nil: not waiting).
    private var waitingSince: NIODeadline?
    private var timer: RepeatedTask?

    /// A guard enforcing `minimumRate` bytes a second after `grace`.
    init(minimumRate: Int, grace: TimeAmount) {
        self.minimumRate = minimumRate
        self.grace = grace
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let socketSide = SocketSide(guard: self)
        try? context.pipeline.syncOperations.addHandler(socketSide, position: .first)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: Self.checkInterval, delay: Self.checkInterval) {
            _ in
            let (guardHandler, context) = loopBound.value
            guardHandler.check(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            // The request is complete: what follows is the server's turn, then the next request.
            receiving = nil
        }
        context.fireChannelRead(data)
    }

    /// The time the current request has kept the server waiting, if one is being received.
    func waited(now: NIODeadline) -> TimeAmount? {
        guard let receiving else { return nil }
        return receiving.waited + (waitingSince.map { now - $0 } ?? .zero)
    }

    /// The waiting allowed to a request that has sent `bytes`.
    func allowance(bytes: Int) -> TimeAmount {
        grace + .nanoseconds(Int64(min(Double(bytes) / Double(minimumRate) * 1e9, 1e15)))
    }

    private func check(context: ChannelHandlerContext) {
        guard let receiving, let waited = waited(now: .now()) else { return }
        if waited > allowance(bytes: receiving.bytes) {
            timer?.cancel()
            timer = nil
            context.close(promise: nil)
        }
    }

    fileprivate func serverRequestsBytes() {
        if waitingSince == nil { waitingSince = .now() }
    }

    fileprivate func clientSent(_ count: Int) {
        let now = NIODeadline.now()
        if var current = receiving {
            current.waited = current.waited + (waitingSince.map { now - $0 } ?? .zero)
            current.bytes += count
            receiving = current
        } else {
            // The first bytes of a request: the wait before them was the connection idling between requests.
            receiving = (count, .zero)
        }
        waitingSince = nil
    }

    /// Counts the bytes arriving and the server's requests for more, at the socket end of the pipeline.
    final class SocketSide: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        typealias OutboundIn = NIOAny
        typealias OutboundOut = NIOAny

        private let owner: TransferRateGuard

        init(guard owner: TransferRateGuard) {
            self.owner = owner
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            owner.clientSent(unwrapInboundIn(data).readableBytes)
            context.fireChannelRead(data)
        }

        func read(context: ChannelHandlerContext) {
            owner.serverRequestsBytes()
            context.read()
        }
    }
}
