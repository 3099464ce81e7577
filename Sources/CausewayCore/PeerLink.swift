/// The link to one peer gateway: handshakes, the sessions they yield, and the timers that
/// keep them fresh. A value driven by the data plane with the current time; it never
/// touches a socket, so every transition is tested without a network.
///
/// Three session slots, as in WireGuard: `current` is the one frames are sealed with;
/// `previous` still opens messages the peer sealed before it switched; `next` is a session
/// this side answered, which becomes current when the first message under it arrives. A
/// replayed initiation can therefore never displace a working session.
public struct PeerLink: Sendable {
    /// The peer's index in the forwarding table (0 while there is one).
    public let peerID: Int
    public let timing: LinkTiming
    private let psk: PreSharedKey

    public private(set) var current: Session?
    private var previous: Session?
    private var next: Session?
    private var pending: Handshake.Initiator?
    private var lastAcceptedInitiation = HandshakeTimestamp.zero
    private var initiationLimiter = RateLimiter(perSecond: 20, burst: 40)

    public private(set) var lastAuthenticatedReceive: Moment?
    private var lastKeepaliveSent: Moment?
    /// The latest round-trip time measured with a keepalive.
    public private(set) var roundTripTime: Duration?

    public init(peerID: Int = 0, psk: PreSharedKey, timing: LinkTiming) {
        self.peerID = peerID
        self.psk = psk
        self.timing = timing
    }

    /// Whether authenticated traffic arrived recently enough.
    public func isUp(now: Moment) -> Bool {
        guard let last = lastAuthenticatedReceive else { return false }
        return now.since(last) < timing.peerDownAfter
    }

    /// What the timers ask for now.
    public struct Due: Sendable, Equatable {
        /// A handshake initiation to send.
        public var initiation: [UInt8]?
        public var keepalive = false
    }

    public mutating func timersDue(now: Moment, wallClock: HandshakeTimestamp, counters: inout Counters) -> Due {
        var due = Due()
        if let session = current, now.since(session.createdAt) >= timing.rejectAfter || session.isExhausted {
            current = nil
        }
        if let started = pending?.startedAt, now.since(started) >= timing.handshakeRetry {
            pending = nil
        }
        if pending == nil, needsHandshake(now: now) {
            let (initiator, message) = Handshake.initiate(psk: psk, localIndex: freshIndex(), timestamp: wallClock, now: now)
            pending = initiator
            counters.handshakesInitiated &+= 1
            due.initiation = message
        }
        if current != nil, lastKeepaliveSent.map({ now.since($0) >= timing.keepaliveInterval }) ?? true {
            lastKeepaliveSent = now
            due.keepalive = true
        }
        return due
    }

    /// The earliest moment at which `timersDue` has something to do.
    public func nextDeadline(now: Moment) -> Moment {
        var deadline = now + timing.keepaliveInterval
        if let started = pending?.startedAt { deadline = min(deadline, started + timing.handshakeRetry) }
        if let sent = lastKeepaliveSent, current != nil { deadline = min(deadline, sent + timing.keepaliveInterval) }
        if let session = current {
            deadline = min(deadline, session.createdAt + rekeyAge(of: session), session.createdAt + timing.rejectAfter)
        }
        if let last = lastAuthenticatedReceive { deadline = min(deadline, max(now, last + timing.peerDownAfter)) }
        return max(deadline, now)
    }

    /// Answers a handshake initiation; returns the response to send, or nil after counting
    /// why it was dropped.
    public mutating func receiveInitiation(_ datagram: UnsafeRawBufferPointer, now: Moment, counters: inout Counters) -> [UInt8]? {
        guard initiationLimiter.allow(now: now) else {
            counters.drop(.handshakeRateLimited)
            return nil
        }
        let answer: Handshake.Answer
        do {
            answer = try Handshake.respond(to: Array(datagram), psk: psk, localIndex: freshIndex())
        } catch {
            counters.drop(error == .authentication ? .authentication : .malformed)
            return nil
        }
        guard answer.timestamp > lastAcceptedInitiation else {
            counters.drop(.staleHandshake)
            return nil
        }
        lastAcceptedInitiation = answer.timestamp
        next = Session(keys: answer.keys, createdAt: now)
        counters.handshakesAnswered &+= 1
        return answer.response
    }

    /// Completes our initiation with the peer's response. Returns true when a session was
    /// established; the caller then sends a keepalive at once, which confirms the session to
    /// the responder.
    public mutating func receiveResponse(_ datagram: UnsafeRawBufferPointer, now: Moment, counters: inout Counters) -> Bool {
        guard let initiator = pending, Handshake.receiverIndex(ofResponse: datagram) == initiator.localIndex else {
            counters.drop(.unexpectedHandshake)
            return false
        }
        let keys: SessionKeys
        do {
            keys = try Handshake.complete(initiator, response: Array(datagram))
        } catch {
            counters.drop(error == .authentication ? .authentication : .malformed)
            return false
        }
        pending = nil
        promote(Session(keys: keys, createdAt: now), counters: &counters)
        lastAuthenticatedReceive = now
        lastKeepaliveSent = now
        return true
    }

    /// Authenticates a data or control datagram and decrypts its payload into `out`.
    public mutating func receiveTransport(
        _ datagram: UnsafeRawBufferPointer, type: WireFormat.MessageType, now: Moment,
        into out: UnsafeMutableRawBufferPointer, counters: inout Counters
    ) -> Session.Opened? {
        let index = Session.receiverIndex(of: datagram)
        guard let session = session(withLocalIndex: index) else {
            counters.drop(.unknownSession)
            return nil
        }
        guard now.since(session.createdAt) < timing.rejectAfter else {
            counters.drop(.expiredSession)
            return nil
        }
        switch session.open(datagram, type: type, into: out) {
        case .failure(let reason):
            counters.drop(reason)
            return nil
        case .success(let opened):
            if session === next {
                next = nil
                promote(session, counters: &counters)
            }
            lastAuthenticatedReceive = now
            return opened
        }
    }

    /// Takes the round-trip time from an echoed keepalive.
    public mutating func keepaliveReplyReceived(sentAt: Moment, now: Moment) {
        if sentAt <= now { roundTripTime = now.since(sentAt) }
    }

    /// The session to seal outgoing messages with, if one is usable.
    public func sendingSession(now: Moment) -> Session? {
        guard let session = current, now.since(session.createdAt) < timing.rejectAfter, !session.isExhausted else { return nil }
        return session
    }

    private mutating func promote(_ session: Session, counters: inout Counters) {
        previous = current
        current = session
        counters.sessionsEstablished &+= 1
    }

    private func session(withLocalIndex index: UInt32) -> Session? {
        // Three plain comparisons: this runs for every datagram, so no array is built.
        if let current, current.localIndex == index { return current }
        if let next, next.localIndex == index { return next }
        if let previous, previous.localIndex == index { return previous }
        return nil
    }

    private func needsHandshake(now: Moment) -> Bool {
        guard let session = current else { return true }
        if now.since(session.createdAt) >= rekeyAge(of: session) { return true }
        // The peer went quiet: it may have restarted and lost the session.
        return !isUp(now: now)
    }

    private func rekeyAge(of session: Session) -> Duration {
        session.isInitiator ? timing.rekeyAfter : timing.responderRekeyAfter
    }

    private func freshIndex() -> UInt32 {
        var generator = SystemRandomNumberGenerator()
        while true {
            let index = UInt32.random(in: 1...UInt32.max, using: &generator)
            if session(withLocalIndex: index) == nil, pending?.localIndex != index { return index }
        }
    }
}
