/// The link to one peer gateway: handshakes, the sessions they yield, and the timers that
/// keep them fresh. Driven by the data plane with the current time; it never touches a
/// socket, so every transition is tested without a network. The session slots are values;
/// the handshake's state sits in one class (`HandshakeMachinery`), so a copy of a link
/// shares it: a link has one owner, the data-plane thread.
///
/// Three session slots, as in WireGuard: `current` is the one frames are sealed with;
/// `previous` still opens messages the peer sealed before it switched; `next` is a session
/// this side answered, which becomes current when the first message under it arrives. A
/// replayed initiation can therefore never displace a working session.
public struct PeerLink: Sendable {
    /// The peer's slot in the data path's table of peers, which the MAC table names and
    /// every session index of this link carries (PeerSlots).
    public let peerID: Int
    /// The data-plane thread this copy of the link serves. Lane 0's runs the handshakes and
    /// owns the sessions; another lane's link only mirrors them (`adopt`), seals in its own
    /// counter space and opens the sending lanes that are its own.
    public let lane: Lane
    /// Its intervals; a reload may change the keepalive interval, and with it when the peer
    /// counts as down.
    public internal(set) var timing: LinkTiming
    /// The handshake's state, behind one reference: the data plane reads this struct's
    /// session slots for every frame, and a copy of it must not retain a dozen buffers.
    private let handshake: HandshakeMachinery
    public var identity: SiteIdentity { handshake.identity }

    public private(set) var current: Session?
    private var previous: Session?
    private var next: Session?
    /// The local index of the session the peer's latest authenticated message came under:
    /// the one it seals with. An index, not a reference: it keeps no keys alive.
    private var lastReceivedIndex: UInt32?
    private var lastSessionAt: Moment?
    private var keysErased = false

    public private(set) var lastAuthenticatedReceive: Moment?
    /// A response to our initiation passed mac1 and the guard but did not open: with both
    /// site keys right, the pre-shared keys differ. Set for the data path to report; cleared
    /// by it.
    public internal(set) var responseFailedAuthentication = false
    /// The peer's latest handshake authenticated but shares no transport cipher with this
    /// gateway: its offer, for the data path to report; cleared by it.
    public internal(set) var refusedCipherOffer: CipherOffer?
    /// When the latest handshake completed, either role.
    public private(set) var latestHandshake: Moment?
    private var lastKeepaliveSent: Moment?
    /// The latest round-trip time measured with a keepalive.
    public private(set) var roundTripTime: Duration?

    /// `desk` is shared by every link of the gateway (HandshakeDesk).
    public init(peerID: Int = 0, identity: SiteIdentity, timing: LinkTiming, desk: HandshakeDesk = HandshakeDesk(), lane: Lane = .only) {
        precondition(peerID >= 0 && peerID < PeerSlots.capacity, "a peer's slot fits a session index's low bits")
        self.peerID = peerID
        self.lane = lane
        handshake = HandshakeMachinery(identity: identity, desk: desk)
        self.timing = timing
    }

    /// Whether authenticated traffic arrived recently enough.
    public func isUp(now: Moment) -> Bool {
        guard let last = lastAuthenticatedReceive else { return false }
        return now.since(last) < timing.peerDownAfter
    }

    public func isUnderLoad(now: Moment) -> Bool { handshake.desk.isUnderLoad(now: now) }

    /// What the timers ask for now.
    public struct Due: Sendable, Equatable {
        /// A handshake initiation to send.
        public var initiation: [UInt8]?
        public var keepalive = false
        /// Initiations went unanswered for `handshakeAttemptTime` and pause now: the peer is
        /// unreachable, or does not take this site's key.
        public var gaveUp = false
    }

    /// `canInitiate` is false while the peer has no address to send to (one that only calls
    /// in and has not yet).
    public mutating func timersDue(now: Moment, wallClock: HandshakeTimestamp, canInitiate: Bool = true, counters: inout Counters) -> Due {
        var due = Due()
        if let session = current, now.since(session.createdAt) >= timing.rejectAfter || session.isExhausted() {
            current = nil
        }
        if let session = previous, now.since(session.createdAt) >= timing.rejectAfter {
            previous = nil
        }
        eraseKeysIfSilent(now: now)
        if let retryAt = handshake.pending?.retryAt, now >= retryAt {
            handshake.pending = nil
        }
        if handshake.gaveUp, let gaveUpAt = handshake.gaveUpAt, now.since(gaveUpAt) >= timing.handshakePause {
            handshake.gaveUp = false
        }
        if canInitiate, handshake.pending == nil, needsHandshake(now: now) {
            if handshake.attemptsStarted == nil { handshake.attemptsStarted = now }
            if let started = handshake.attemptsStarted, now.since(started) >= timing.handshakeAttemptTime {
                handshake.gaveUp = true
                handshake.gaveUpAt = now
                handshake.attemptsStarted = nil
                due.gaveUp = true
            } else {
                due.initiation = initiate(now: now, wallClock: wallClock)
                counters.handshakesInitiated &+= 1
            }
        }
        if current != nil, lastKeepaliveSent.map({ now.since($0) >= timing.keepaliveInterval }) ?? true {
            lastKeepaliveSent = now
            due.keepalive = true
        }
        return due
    }

    /// A frame waits for a session that is not there: after initiations gave up, this starts
    /// them again (WireGuard does the same on the next packet to send). Returns whether it
    /// did, so that the timers run for it.
    @discardableResult
    public mutating func frameWaiting(now: Moment) -> Bool {
        let gaveUp = handshake.gaveUp
        handshake.gaveUp = false
        return gaveUp
    }

    /// The earliest moment at which `timersDue` has something to do.
    /// Only moments still ahead count: one already past that `timersDue` has acted on (the
    /// peer went down, a rekey that gave up) would otherwise wake the data plane at once,
    /// again and again.
    public func nextDeadline(now: Moment) -> Moment {
        var deadline = now + timing.keepaliveInterval
        func consider(_ moment: Moment) {
            if moment > now { deadline = min(deadline, moment) }
        }
        if let retryAt = handshake.pending?.retryAt { deadline = min(deadline, max(retryAt, now)) }
        if let sent = lastKeepaliveSent, current != nil { consider(sent + timing.keepaliveInterval) }
        if let session = current {
            consider(session.createdAt + rekeyAge(of: session))
            consider(session.createdAt + timing.rejectAfter)
        }
        if let last = lastAuthenticatedReceive { consider(last + timing.peerDownAfter) }
        if handshake.gaveUp, let gaveUpAt = handshake.gaveUpAt { consider(gaveUpAt + timing.handshakePause) }
        return deadline
    }

    /// A new turn of the data plane: handshakes may again cost a few Diffie-Hellmans (the
    /// desk's budget, which every link of the gateway shares).
    public func startTurn() {
        handshake.desk.startTurn()
    }

    /// Answers a handshake initiation from `source` when this link is the gateway's only one;
    /// returns what to send back to it (a response, or a cookie reply under load), or nil
    /// after counting why it was dropped. With many peers the data path opens initiations
    /// at the desk and hands each to its link's `answer`.
    public mutating func receiveInitiation(
        _ datagram: UnsafeRawBufferPointer, from source: EndpointAddress, now: Moment, counters: inout Counters
    ) -> [UInt8]? {
        var cookieReply: [UInt8]?
        var refusal: DropReason?
        let identity = identity
        guard let (opened, _) = handshake.desk.openInitiation(
            datagram, from: source, keys: identity.macs, local: identity.local,
            identityOf: { $0 == identity.peer.bytes ? identity : nil }, now: now, counters: &counters,
            cookieReply: &cookieReply, refusal: &refusal
        ) else { return cookieReply }
        return answer(opened, now: now, counters: &counters)
    }

    /// Answers an initiation of this link's peer that opened (HandshakeDesk): one newer than
    /// any answered before gets a response, and its session waits as `next` for the peer's
    /// first message. Returns the response, or nil after counting why it was dropped.
    public mutating func answer(_ opened: Handshake.OpenedInitiation, now: Moment, counters: inout Counters) -> [UInt8]? {
        guard opened.timestamp > handshake.lastAcceptedInitiation else {
            counters.drop(.staleHandshake)
            return nil
        }
        let answer: Handshake.Answer
        do {
            answer = try Handshake.respond(to: opened, identity, localIndex: freshIndex())
        } catch {
            counters.drop(error.dropReason)
            if case .noCommonCipher(let theirs) = error {
                // It authenticated: a replay of it is stale, never another refusal to log.
                handshake.lastAcceptedInitiation = opened.timestamp
                refusedCipherOffer = theirs
            }
            return nil
        }
        handshake.lastAcceptedInitiation = opened.timestamp
        next = Session(keys: answer.keys, createdAt: now)
        var response = answer.response
        handshake.nextResponseHadCookie = handshake.cookies.hasCookie(now: now)
        handshake.nextResponseTookCookie = false
        handshake.nextResponseMAC1 = handshake.cookies.writeMACs(into: &response, macAt: WireFormat.Response.mac1, keys: identity.macs, now: now)
        handshake.nextResponse = response
        counters.handshakesAnswered &+= 1
        return response
    }

    /// Completes our initiation with the peer's response. Returns true when a session was
    /// established; the caller then sends a keepalive at once, which confirms the session to
    /// the responder. A cookie reply to send back (under load) comes out in `reply`.
    public mutating func receiveResponse(
        _ datagram: UnsafeRawBufferPointer, from source: EndpointAddress, now: Moment, counters: inout Counters,
        reply: inout [UInt8]?
    ) -> Bool {
        typealias Field = WireFormat.Response
        counters.responsesReceived &+= 1
        // Only a response to the handshake in flight is worth a look: a comparison refuses
        // every other one, forged or replayed, before even an HMAC.
        guard let initiator = handshake.pending?.initiator,
              Handshake.receiverIndex(of: datagram, type: .handshakeResponse) == initiator.localIndex
        else {
            counters.drop(.unknownIndex)
            return false
        }
        guard admit(datagram, macAt: Field.mac1, indexAt: Field.senderIndex, from: source, now: now, counters: &counters, cookieReply: &reply) else {
            return false
        }
        let keys: SessionKeys
        do {
            keys = try Handshake.complete(initiator, response: datagram, identity)
        } catch {
            counters.drop(error.dropReason)
            if error == .authentication { responseFailedAuthentication = true }
            if case .noCommonCipher(let theirs) = error { refusedCipherOffer = theirs }
            return false
        }
        handshake.pending = nil
        promote(Session(keys: keys, createdAt: now), now: now, counters: &counters)
        lastAuthenticatedReceive = now
        lastKeepaliveSent = now
        return true
    }

    private func admit(
        _ datagram: UnsafeRawBufferPointer, macAt macOffset: Int, indexAt indexOffset: Int, from source: EndpointAddress,
        now: Moment, counters: inout Counters, cookieReply: inout [UInt8]?
    ) -> Bool {
        handshake.desk.admit(datagram, macAt: macOffset, indexAt: indexOffset, from: source, keys: identity.macs, now: now, counters: &counters, cookieReply: &cookieReply)
    }

    /// Takes a cookie reply to our initiation or response, so that the peer under load
    /// does not delay the link by more than a round trip: an initiation that went out without
    /// a cookie is sent again at once (the next `timersDue`), now with mac2; a response that
    /// did is returned to be sent again, the same Noise message with a mac2. One cookie reply
    /// per message is taken, and one resend made: a cookie reply needs the mac1 of a message
    /// we sent, so only an on-path sender can ask for it.
    public mutating func receiveCookieReply(_ datagram: UnsafeRawBufferPointer, now: Moment, counters: inout Counters) -> [UInt8]? {
        let index = Handshake.receiverIndex(of: datagram, type: .cookieReply)
        let answersInitiation: Bool
        let mac1: [UInt8]
        if let pending = handshake.pending, pending.initiator.localIndex == index, !pending.tookCookie {
            (answersInitiation, mac1) = (true, pending.mac1)
        } else if let next, next.localIndex == index, !handshake.nextResponseTookCookie {
            (answersInitiation, mac1) = (false, handshake.nextResponseMAC1)
        } else {
            counters.drop(.unknownIndex)
            return nil
        }
        guard handshake.cookies.take(datagram, answering: mac1, keys: identity.macs, now: now) else {
            counters.drop(.authentication)
            return nil
        }
        counters.cookieRepliesReceived &+= 1
        if answersInitiation {
            handshake.pending?.tookCookie = true
            if handshake.pending?.hadCookie == false { handshake.pending?.retryAt = now }
            return nil
        }
        handshake.nextResponseTookCookie = true
        guard !handshake.nextResponseHadCookie else { return nil }
        var response = handshake.nextResponse
        handshake.nextResponseMAC1 = handshake.cookies.writeMACs(into: &response, macAt: WireFormat.Response.mac1, keys: identity.macs, now: now)
        handshake.nextResponse = response
        return response
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
        switch session.open(datagram, type: type, into: out, lane: lane) {
        case .failure(let reason):
            counters.drop(reason)
            return nil
        case .success(var opened):
            lastReceivedIndex = session.localIndex
            // Only lane 0 makes a session current; another lane opens with `next` until it
            // adopts what lane 0 made of it, and tells lane 0 it may (DataPath.noteOpened).
            if session === next {
                if lane.isPrimary {
                    next = nil
                    promote(session, now: now, counters: &counters)
                    opened.establishedSession = true
                } else {
                    opened.openedUnderNext = session.localIndex
                }
            }
            lastAuthenticatedReceive = now
            return opened
        }
    }

    /// Lane 0 takes another lane's word that the peer's message opened under `next`, whose
    /// local index is `localIndex`: the session becomes current as if the message had come
    /// here. True when it did.
    public mutating func confirmNext(localIndex: UInt32, now: Moment, counters: inout Counters) -> Bool {
        guard lane.isPrimary, let session = next, session.localIndex == localIndex else { return false }
        next = nil
        promote(session, now: now, counters: &counters)
        lastAuthenticatedReceive = now
        return true
    }

    /// Lane 0 takes another lane's word that a message of the peer's authenticated at
    /// `moment`: the peer is up, as if the message had come here.
    /// Returns whether it was heard later than this link knew.
    @discardableResult
    public mutating func heardOnAnotherLane(at moment: Moment) -> Bool {
        guard lastAuthenticatedReceive.map({ moment > $0 }) ?? true else { return false }
        lastAuthenticatedReceive = moment
        return true
    }

    /// Whether a session with this local index is held.
    public func holdsSession(localIndex: UInt32) -> Bool {
        session(withLocalIndex: localIndex) != nil
    }

    /// Takes the round-trip time from an echoed keepalive.
    public mutating func keepaliveReplyReceived(sentAt: Moment, now: Moment) {
        if sentAt <= now { roundTripTime = now.since(sentAt) }
    }

    /// The session to seal outgoing messages with, if one is usable.
    public func sendingSession(now: Moment) -> Session? {
        guard let session = current, now.since(session.createdAt) < timing.rejectAfter, !session.isExhausted(lane: lane.index) else { return nil }
        return session
    }

    /// The sessions as lane 0 holds them, for the other lanes (LaneBoard).
    public var sessions: LaneBoard.Sessions { LaneBoard.Sessions(current: current, previous: previous, next: next) }

    /// Takes lane 0's sessions: on another lane, the link seals and opens with these.
    public mutating func adopt(_ sessions: LaneBoard.Sessions) {
        precondition(!lane.isPrimary, "lane 0 makes its own sessions")
        current = sessions.current
        previous = sessions.previous
        next = sessions.next
    }

    /// Whether any key material is held: sessions, or a handshake in flight.
    public var holdsKeys: Bool { current != nil || previous != nil || next != nil || handshake.pending != nil }

    private mutating func initiate(now: Moment, wallClock: HandshakeTimestamp) -> [UInt8] {
        var (initiator, message) = Handshake.initiate(identity, localIndex: freshIndex(), timestamp: wallClock, now: now)
        let hadCookie = handshake.cookies.hasCookie(now: now)
        let mac1 = handshake.cookies.writeMACs(into: &message, macAt: WireFormat.Initiation.mac1, keys: identity.macs, now: now)
        var generator = SystemRandomNumberGenerator()
        let jitter = Duration.nanoseconds(Int64.random(in: 0...Int64(timing.retryJitter.nanosecondsClamped), using: &generator))
        handshake.pending = HandshakeMachinery.PendingInitiation(initiator: initiator, mac1: mac1, hadCookie: hadCookie, retryAt: now + timing.handshakeRetry + jitter)
        return message
    }

    private mutating func promote(_ session: Session, now: Moment, counters: inout Counters) {
        // The peer goes on sealing with the session it last used until it learns of this
        // one. After handshakes that crossed, that is `previous`, not `current`: keep it.
        if previous == nil || previous?.localIndex != lastReceivedIndex {
            previous = current
        }
        current = session
        counters.sessionsEstablished &+= 1
        lastSessionAt = now
        latestHandshake = now
        handshake.attemptsStarted = nil
        handshake.gaveUp = false
        keysErased = false
    }

    /// After three reject-after times without a new session no key is worth keeping.
    private mutating func eraseKeysIfSilent(now: Moment) {
        guard !keysErased, let last = lastSessionAt, now.since(last) >= timing.eraseKeysAfter else { return }
        current = nil
        previous = nil
        next = nil
        lastReceivedIndex = nil
        handshake.pending = nil
        handshake.cookies.erase()
        keysErased = true
    }

    private func session(withLocalIndex index: UInt32) -> Session? {
        // Three plain comparisons: this runs for every datagram, so no array is built.
        if let current, current.localIndex == index { return current }
        if let next, next.localIndex == index { return next }
        if let previous, previous.localIndex == index { return previous }
        return nil
    }

    private func needsHandshake(now: Moment) -> Bool {
        guard !handshake.gaveUp else { return false }
        guard let session = current else { return true }
        if now.since(session.createdAt) >= rekeyAge(of: session) || session.needsRekey { return true }
        // The peer went quiet: it may have restarted and lost the session.
        return !isUp(now: now)
    }

    private func rekeyAge(of session: Session) -> Duration {
        session.isInitiator ? timing.rekeyAfter : timing.responderRekeyAfter
    }

    private func freshIndex() -> UInt32 {
        while true {
            let index = PeerSlots.freshIndex(slot: peerID)
            if session(withLocalIndex: index) == nil, handshake.pending?.initiator.localIndex != index { return index }
        }
    }
}

/// What one link's handshake keeps between messages: the identity, the initiation in flight,
/// the answered response, the guard's counters and buckets, the cookie from the peer. Owned,
/// like its PeerLink, by the data-plane thread alone.
final class HandshakeMachinery: @unchecked Sendable {
    let identity: SiteIdentity
    var pending: PendingInitiation?
    /// The response that made the link's `next` session, and its mac1, which a cookie reply
    /// to it names.
    var nextResponse: [UInt8] = []
    var nextResponseMAC1: [UInt8] = []
    var nextResponseHadCookie = false
    var nextResponseTookCookie = false
    var lastAcceptedInitiation = HandshakeTimestamp.zero
    /// Shared by every link of the gateway.
    let desk: HandshakeDesk
    var cookies = CookieJar()
    /// When the current series of initiations began; nil while none is being attempted.
    var attemptsStarted: Moment?
    /// Initiations gave up after `handshakeAttemptTime`; a frame to send starts them again,
    /// and so does `handshakePause` after `gaveUpAt`.
    var gaveUp = false
    var gaveUpAt: Moment?

    struct PendingInitiation: Sendable {
        let initiator: Handshake.Initiator
        let mac1: [UInt8]
        let hadCookie: Bool
        /// A cookie reply to this initiation was taken: WireGuard takes one per message.
        var tookCookie = false
        /// When the initiation is sent again if no response came.
        var retryAt: Moment
    }

    init(identity: SiteIdentity, desk: HandshakeDesk) {
        self.identity = identity
        self.desk = desk
    }
}
