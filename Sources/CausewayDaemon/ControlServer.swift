import CausewayControl
import CausewayCore
import CausewayLinux
import Foundation
import Logging
import Synchronization

/// Serves the control socket on a thread of its own, so that a slow, silent or hostile
/// client never holds up another client, the signal handling or the data plane. Clients are
/// multiplexed with poll(); each gets `idleTimeout` to send a request before it is answered
/// with a timeout error and closed. With `maximumClients` connected, new ones wait in the
/// listen backlog until a slot frees.
final class ControlServer: @unchecked Sendable {
    static let maximumClients = 16
    static let idleTimeout = Duration.seconds(5)

    private let listener: UnixListener
    private let answer: @Sendable ([UInt8]) -> ControlReply
    private let logger: Logger
    private let wakeup: EventFD
    private let stopRequested = Atomic<Bool>(false)
    private var thread: NamedThread?

    // Owned by the control thread.
    private var clients: [Client] = []

    private final class Client {
        let stream: UnixStream
        var requests = RequestBuffer()
        var output: [UInt8] = []
        var written = 0
        var deadline: Moment
        var closeAfterReply = false

        init(stream: UnixStream, deadline: Moment) {
            self.stream = stream
            self.deadline = deadline
        }
    }

    /// `answer` turns one request line into its reply; it runs on the control thread.
    init(listener: UnixListener, logger: Logger, answer: @escaping @Sendable ([UInt8]) -> ControlReply) throws {
        self.listener = listener
        self.logger = logger
        self.answer = answer
        wakeup = try EventFD()
    }

    func start() {
        thread = NamedThread(name: "causeway-control") { [self] in run() }
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
            expireIdleClients(now: Clock.monotonic())
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
            clients.append(Client(stream: stream, deadline: now + Self.idleTimeout))
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
            client.output = answer(line).line
        case .tooLong:
            client.output = ControlReply(error: ControlError(.requestTooLarge, "a request is one line of at most \(ControlProtocol.maximumRequestLength) bytes")).line
            client.closeAfterReply = true
        }
        client.written = 0
        client.deadline = now + Self.idleTimeout
        flush(client, now: now)
    }

    private func flush(_ client: Client, now: Moment) {
        let written = client.output[client.written...].withUnsafeBytes { client.stream.write($0) }
        guard let written else { return close(client) }
        client.written += written
        guard client.written == client.output.count else { return }
        client.output = []
        if client.closeAfterReply { return close(client) }
        // Requests may arrive back to back; the next one may already be buffered.
        serveNextRequest(of: client, now: now)
    }

    private func expireIdleClients(now: Moment) {
        for client in clients where client.deadline <= now {
            if client.output.isEmpty, !client.closeAfterReply {
                client.output = ControlReply(error: ControlError(.timeout, "no complete request within \(Self.idleTimeout)")).line
                client.written = 0
                client.closeAfterReply = true
                client.deadline = now + .seconds(1)
                flush(client, now: now)
            } else {
                // A reply nobody reads: let it go.
                close(client)
            }
        }
    }

    private func pollTimeout(now: Moment) -> Duration {
        let nearest = clients.map(\.deadline).min().map { $0.since(now) } ?? .seconds(1)
        return min(nearest, .seconds(1))
    }

    private func close(_ client: Client) {
        clients.removeAll { $0 === client }
    }
}
