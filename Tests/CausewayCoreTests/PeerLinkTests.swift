import Testing
@testable import CausewayCore

/// Two gateways' link state machines joined by an in-memory "network": every transition is
/// driven by explicit times, as the data plane would drive it.
@Suite struct PeerLinkTests {
    let psk = PreSharedKey.random()
    let timing = LinkTiming(keepaliveInterval: .seconds(5))
    let t0 = Moment(nanoseconds: 10_000_000_000)
    let wallClock = HandshakeTimestamp(seconds: 1_700_000_000, nanoseconds: 0)

    struct Side {
        var link: PeerLink
        var counters = Counters()
    }

    func makeSide() -> Side { Side(link: PeerLink(psk: psk, timing: timing)) }

    /// Runs A's initiation through B and back; returns the datagrams that crossed.
    @discardableResult
    func handshake(_ a: inout Side, _ b: inout Side, at now: Moment, wall: HandshakeTimestamp) throws -> (initiation: [UInt8], response: [UInt8]) {
        let initiation = try #require(a.link.timersDue(now: now, wallClock: wall, counters: &a.counters).initiation)
        let response = try #require(initiation.withUnsafeBytes { b.link.receiveInitiation($0, now: now, counters: &b.counters) })
        #expect(response.withUnsafeBytes { a.link.receiveResponse($0, now: now, counters: &a.counters) })
        return (initiation, response)
    }

    /// Seals a keepalive-sized data message on `from` and opens it on `to`.
    func deliver(_ from: inout Side, _ to: inout Side, at now: Moment) -> Result<Session.Opened, DropReason> {
        guard let session = from.link.sendingSession(now: now) else { return .failure(.noSession) }
        let datagram = seal(session, [0xAB])
        let before = to.counters.drops
        var out = [UInt8](repeating: 0, count: 256)
        let opened = datagram.withUnsafeBytes { bytes in
            out.withUnsafeMutableBytes { to.link.receiveTransport(bytes, type: .data, now: now, into: $0, counters: &to.counters) }
        }
        if let opened { return .success(opened) }
        let reason = DropReason.allCases.first { to.counters.drops($0) != (before[$0] ?? 0) }
        return .failure(reason ?? .malformed)
    }

    @Test func aHandshakeEstablishesASessionBothWays() throws {
        var a = makeSide(), b = makeSide()
        try handshake(&a, &b, at: t0, wall: wallClock)
        #expect(a.link.isUp(now: t0))
        #expect(a.counters.sessionsEstablished == 1)
        #expect(b.link.sendingSession(now: t0) == nil, "the responder waits for the initiator's first message")
        #expect(deliver(&a, &b, at: t0).isSuccess)
        #expect(b.counters.sessionsEstablished == 1)
        #expect(deliver(&b, &a, at: t0).isSuccess)
    }

    @Test func aRestartedPeerIsRehandshakedAndTheSurvivorCountsANewSession() throws {
        var a = makeSide(), b = makeSide()
        try handshake(&a, &b, at: t0, wall: wallClock)
        _ = deliver(&a, &b, at: t0)

        var restarted = makeSide()  // B's process restarts: no session, no memory
        let later = t0 + .seconds(3)
        try handshake(&restarted, &a, at: later, wall: HandshakeTimestamp(seconds: wallClock.seconds + 3, nanoseconds: 0))
        #expect(deliver(&restarted, &a, at: later).isSuccess)
        #expect(a.counters.sessionsEstablished == 2)
        #expect(deliver(&a, &restarted, at: later).isSuccess, "the survivor now seals with the new session")
    }

    @Test func aReplayedInitiationIsRefusedAndDisplacesNothing() throws {
        var a = makeSide(), b = makeSide()
        let (initiation, _) = try handshake(&a, &b, at: t0, wall: wallClock)
        _ = deliver(&a, &b, at: t0)
        let replayed = initiation.withUnsafeBytes { b.link.receiveInitiation($0, now: t0 + .seconds(1), counters: &b.counters) }
        #expect(replayed == nil)
        #expect(b.counters.drops(.staleHandshake) == 1)
        #expect(deliver(&a, &b, at: t0 + .seconds(1)).isSuccess)
    }

    @Test func messagesOfAReplacedSessionAreRefused() throws {
        var a = makeSide(), b = makeSide()
        try handshake(&a, &b, at: t0, wall: wallClock)
        let oldSession = try #require(a.link.sendingSession(now: t0))
        _ = deliver(&a, &b, at: t0)
        // Two rekeys: the first session moves to `previous`, then is gone.
        for step in 1...2 {
            let now = t0 + timing.rekeyAfter * step + .seconds(step)
            let wall = HandshakeTimestamp(seconds: wallClock.seconds + UInt64(step) * 200, nanoseconds: 0)
            try handshake(&a, &b, at: now, wall: wall)
            #expect(deliver(&a, &b, at: now).isSuccess)
        }
        let stale = seal(oldSession, [1])
        var out = [UInt8](repeating: 0, count: 64)
        let opened = stale.withUnsafeBytes { bytes in
            out.withUnsafeMutableBytes { b.link.receiveTransport(bytes, type: .data, now: t0 + .seconds(3), into: $0, counters: &b.counters) }
        }
        #expect(opened == nil)
        #expect(b.counters.drops(.unknownSession) == 1)
    }

    @Test func aSilentPeerGoesDownAndIsRehandshaked() throws {
        var a = makeSide(), b = makeSide()
        try handshake(&a, &b, at: t0, wall: wallClock)
        let silent = t0 + timing.peerDownAfter
        #expect(!a.link.isUp(now: silent))
        var wall = wallClock
        wall.seconds += 20
        #expect(a.link.timersDue(now: silent, wallClock: wall, counters: &a.counters).initiation != nil)
    }

    @Test func sessionsExpireAfterRejectAfter() throws {
        var a = makeSide(), b = makeSide()
        try handshake(&a, &b, at: t0, wall: wallClock)
        #expect(a.link.sendingSession(now: t0 + timing.rejectAfter) == nil)
    }

    @Test func keepalivesFollowTheInterval() throws {
        var a = makeSide(), b = makeSide()
        try handshake(&a, &b, at: t0, wall: wallClock)
        _ = deliver(&b, &a, at: t0)
        #expect(!a.link.timersDue(now: t0 + .seconds(4), wallClock: wallClock, counters: &a.counters).keepalive)
        #expect(a.link.timersDue(now: t0 + .seconds(5), wallClock: wallClock, counters: &a.counters).keepalive)
    }

    @Test func initiationsBeyondTheRateLimitAreDropped() {
        var b = makeSide()
        var answered = 0
        for step in 0..<100 {
            var wall = wallClock
            wall.nanoseconds = UInt32(step)
            let (_, initiation) = Handshake.initiate(psk: psk, localIndex: UInt32(step + 1), timestamp: wall, now: t0)
            if initiation.withUnsafeBytes({ b.link.receiveInitiation($0, now: t0, counters: &b.counters) }) != nil { answered += 1 }
        }
        #expect(answered == 40)
        #expect(b.counters.drops(.handshakeRateLimited) == 60)
    }

    @Test func aResponseToNoInitiationIsCounted() throws {
        var a = makeSide(), b = makeSide(), c = makeSide()
        let (_, response) = try handshake(&a, &b, at: t0, wall: wallClock)
        #expect(!response.withUnsafeBytes { c.link.receiveResponse($0, now: t0, counters: &c.counters) })
        #expect(c.counters.drops(.unexpectedHandshake) == 1)
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
