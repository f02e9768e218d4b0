import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client takes too long to send a request (SECURITY-CASES 59).
///
/// Hummingbird's idle timeout (75 s) counts from the last HTTP part read or response written,
/// and a request head becomes a part only once it is complete, so a client sending its headers
/// a byte a second held the connection for the whole 75 s, and a body sent a byte at a time
/// held it for ever. Here the head must be complete within `headTimeout` of the connection
/// being accepted (or of the first byte of a later request on a kept-alive connection), and the
/// body within `bodyTimeout` of its head. Past either: 408 (RFC 9110 §15.5.9) with
/// `Connection: close` when nothing else is being answered on the connection, then close.
///
/// It sits after the HTTP decoder, so it sees whole parts; bytes that arrive without making a
/// part show up as a `channelReadComplete` with no `channelRead` before it.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    enum Phase {
        /// Between requests: no byte of the next one yet (the idle timeout applies).
        case idle
        case readingHead
        case readingBody
    }

    let headTimeout: TimeAmount
    let bodyTimeout: TimeAmount
    private var phase = Phase.idle
    /// Whether any byte has arrived on the connection (a connection that never sent one is closed without a 408).
    private var receivedBytes = false
    private var readPartSinceLastReadComplete = false
    /// Requests whose head was read and whose response has not ended.
    private var requestsInFlight = 0
    /// Whether a response head has been written and its end not yet.
    private var responseStarted = false
    private var deadline: Scheduled<Void>?

    init(headTimeout: TimeAmount, bodyTimeout: TimeAmount) {
        self.headTimeout = headTimeout
        self.bodyTimeout = bodyTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { awaitFirstHead(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        awaitFirstHead(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelDeadline()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelDeadline()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        readPartSinceLastReadComplete = true
        receivedBytes = true
        switch unwrapInboundIn(data) {
        case .head:
            requestsInFlight += 1
            phase = .readingBody
            schedule(in: bodyTimeout, context)
        case .body:
            break
        case .end:
            phase = .idle
            cancelDeadline()
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !readPartSinceLastReadComplete {
            receivedBytes = true
            // Bytes that made no part: the start of a request head.
            if phase == .idle {
                phase = .readingHead
                schedule(in: headTimeout, context)
            }
        }
        readPartSinceLastReadComplete = false
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head:
            responseStarted = true
        case .body:
            break
        case .end:
            responseStarted = false
            requestsInFlight -= 1
        }
        context.write(data, promise: promise)
    }

    private func awaitFirstHead(_ context: ChannelHandlerContext) {
        guard phase == .idle, deadline == nil, requestsInFlight == 0, !receivedBytes else { return }
        phase = .readingHead
        schedule(in: headTimeout, context)
    }

    private func schedule(in timeout: TimeAmount, _ context: ChannelHandlerContext) {
        cancelDeadline()
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            loopBound.value.handler.expired(loopBound.value.context)
        }
    }

    private func cancelDeadline() {
        deadline?.cancel()
        deadline = nil
    }

    private func expired(_ context: ChannelHandlerContext) {
        deadline = nil
        guard phase != .idle, context.channel.isActive else { return }
        // Answer only when no response is on the wire or owed to an earlier request; either way the connection ends.
        let nothingElseAnswered = phase == .readingHead ? requestsInFlight == 0 : requestsInFlight == 1 && !responseStarted
        if receivedBytes, nothingElseAnswered {
            var body = context.channel.allocator.buffer(capacity: Self.timeoutBody.utf8.count)
            body.writeString(Self.timeoutBody)
            let head = HTTPResponse(
                status: .requestTimeout,
                headerFields: [
                    .connection: "close",
                    .contentType: "application/json; charset=utf-8",
                    .cacheControl: "no-store",
                    .contentLength: String(body.readableBytes),
                ]
            )
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(body)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.close(promise: nil)
    }

    static let timeoutBody = #"{"error":"invalid_request","error_description":"the request was not received in time"}"#
}
