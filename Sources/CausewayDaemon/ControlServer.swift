import CausewayControl
import CausewayCore
import CausewayLinux
import Foundation
import Logging
import Synchronization

/// Serves the control socket on a thread of its own, so that a slow, silent or hostile
/// client never holds up another client, the signal handling or the data plane. Clients are
/// multiplexed with poll(). With `maximumClients` connected, new ones wait in the listen
/// backlog until a slot frees, so every limit below is about giving slots back:
///
/// - a new connection has `firstRequestTimeout` to send its first complete request, so idle
///   connections cannot hold every slot for longer than that;
/// - after each reply it has `idleTimeout` to send the next one;
/// - however busy, it lives `lifetime` from accept and is answered `requestBudget` times.
///
/// Each limit ends the connection with an error reply that names it, then a close.
final class ControlServer: @unchecked Sendable {
    static let maximumClients = 16
    static let firstRequestTimeout = Duration.seconds(1)
    static let idleTimeout = Duration.seconds(5)
    static let lifetime = Duration.seconds(30)
    static let requestBudget = 100

    private let listener: UnixListener
    private let answer: @Sendable ([UInt8]) -> [UInt8]
    private let logger: Logger
    private let wakeup: EventFD
    private let stopRequested = Atomic<Bool>(false)
    private var thread: NamedThread?

    // Owned by the control thread.
    private var clients: [Client] = []

    private final class Client {
        let stream: UnixStream
        /// When the connection's lifetime ends, whatever it is doing.
        let expiresAt: Moment
        var requests = RequestBuffer()
        var output: [UInt8] = []
        var written = 0
        /// When the current wait ends: for the next request, or for the reply to be read.
        var deadline: Moment
        var answered = 0
        var closeAfterReply = false

        init(stream: UnixStream, acceptedAt: Moment) {
            self.stream = stream
            expiresAt = acceptedAt + ControlServer.lifetime
            deadline = acceptedAt + ControlServer.firstRequestTimeout
        }

        /// The parting reply gets its own short deadline, even after the lifetime is over.
        var nextDeadline: Moment { closeAfterReply ? deadline : min(deadline, expiresAt) }
    }

    /// `answer` turns one request line into its reply line; it runs on the control thread.
    init(listener: UnixListener, logger: Logger, answer: @escaping @Sendable ([UInt8]) -> [UInt8]) throws {
        self.listener = listener
        self.logger = logger
        self.answer = answer
        wakeup = try EventFD()
    }

    func start() {
        thread = NamedThread(name: "cw-control") { [self] in run() }
    }

    /// Stops serving, closes every client and removes the socket file.
    func stop() {
        stopRequested.store(true, ordering: .releasing)
        wakeup.signal()
        thread?.join()
        clients.removeAll()
        listener.remove()
    }

    private func run() {
        var chunk = [UInt8](repeating: 0, count: 4096)
        var poller = PollSet()
        while !stopRequested.load(ordering: .acquiring) {
            expireClients(now: Clock.monotonic())
            poller.removeAll()
            let woken = poller.watch(wakeup.descriptor)
            let accepting = poller.watch(listener.descriptor, readable: clients.count < Self.maximumClients)
            // Walk a copy: serving a client may close it.
            let watched = clients.map { client in
                (client, poller.watch(client.stream.descriptor, readable: client.output.isEmpty, writable: !client.output.isEmpty))
            }
            poller.wait(timeout: pollTimeout(now: Clock.monotonic()))

            if poller.isReady(woken) { wakeup.drain() }
            if poller.isReady(accepting) { acceptWaitingClients() }
            let now = Clock.monotonic()
            for (client, position) in watched where poller.isReady(position) {
                if client.output.isEmpty {
                    receive(from: client, chunk: &chunk, now: now)
                } else {
                    flush(client, now: now)
                }
            }
        }
    }

    private func acceptWaitingClients() {
        let now = Clock.monotonic()
        while clients.count < Self.maximumClients, let stream = listener.accept() {
            clients.append(Client(stream: stream, acceptedAt: now))
        }
    }

    private func receive(from client: Client, chunk: inout [UInt8], now: Moment) {
        switch chunk.withUnsafeMutableBytes({ client.stream.read(into: $0) }) {
        case .bytes(let count):
            client.requests.append(chunk[..<count])
            serveNextRequest(of: client, now: now)
        case .wouldBlock:
            break
        case .closed:
            // Gone, mid-request or not: nothing to answer.
            close(client)
        }
    }

    /// Answers the next complete request of `client`, if there is one.
    private func serveNextRequest(of client: Client, now: Moment) {
        switch client.requests.next() {
        case .incomplete:
            return
        case .request(let line):
            if client.answered < Self.requestBudget {
                client.answered += 1
                client.output = answer(line)
                client.written = 0
                // Time to read the reply.
                client.deadline = now + Self.idleTimeout
            } else {
                let error = ControlError(.requestBudgetExhausted, "a connection is answered at most \(Self.requestBudget) times; connect again to ask more")
                startParting(client, with: error, now: now)
            }
        case .tooLong:
            startParting(client, with: ControlError(.requestTooLarge, "a request is one line of at most \(ControlProtocol.maximumRequestLength) bytes"), now: now)
        }
        flush(client, now: now)
    }

    /// Queues `error` as the connection's last reply.
    private func startParting(_ client: Client, with error: ControlError, now: Moment) {
        client.output = ControlReply(error: error).line
        client.written = 0
        client.closeAfterReply = true
        client.deadline = now + .seconds(1)
    }

    private func flush(_ client: Client, now: Moment) {
        let written = client.output[client.written...].withUnsafeBytes { client.stream.write($0) }
        guard let written else { return close(client) }
        client.written += written
        guard client.written == client.output.count else { return }
        client.output = []
        if client.closeAfterReply { return close(client) }
        client.deadline = now + Self.idleTimeout
        // Requests may arrive back to back; the next one may already be buffered.
        serveNextRequest(of: client, now: now)
    }

    private func expireClients(now: Moment) {
        for client in clients where client.nextDeadline <= now {
            guard client.output.isEmpty, !client.closeAfterReply else {
                // A reply nobody reads: let it go.
                close(client)
                continue
            }
            startParting(client, with: expiry(of: client, now: now), now: now)
            flush(client, now: now)
        }
    }

    /// Which limit `client` ran into, in words it can act on.
    private func expiry(of client: Client, now: Moment) -> ControlError {
        if client.expiresAt <= now {
            return ControlError(.connectionExpired, "a connection lives at most \(Self.lifetime); connect again to ask more")
        }
        if client.answered == 0 {
            return ControlError(.timeout, "no complete request within \(Self.firstRequestTimeout) of connecting")
        }
        return ControlError(.timeout, "no complete request within \(Self.idleTimeout) of the last reply")
    }

    private func pollTimeout(now: Moment) -> Duration {
        let nearest = clients.map(\.nextDeadline).min().map { $0.since(now) } ?? .seconds(1)
        return min(nearest, .seconds(1))
    }

    private func close(_ client: Client) {
        clients.removeAll { $0 === client }
    }
}
