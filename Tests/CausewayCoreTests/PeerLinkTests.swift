import Testing
@testable import CausewayCore

/// Two gateways' link state machines joined by an in-memory "network": every transition is
/// driven by explicit times, as the data plane would drive it.
struct LinkPair {
    let sites = TwoSites()
    let timing = LinkTiming(keepaliveInterval: .seconds(5))
    let t0 = Moment(nanoseconds: 10_000_000_000)
    let wallClock = HandshakeTimestamp(seconds: 1_700_000_000, nanoseconds: 0)
    static let addressA = EndpointAddress(high: 0, low: 0xFFFF_C612_0001, port: 51820)
    static let addressB = EndpointAddress(high: 0, low: 0xFFFF_C612_0002, port: 51820)

    struct Side {
        var link: PeerLink
        var counters = Counters()
        var address: EndpointAddress
    }

    func sideA() -> Side { Side(link: PeerLink(identity: sites.siteA, timing: timing), address: Self.addressA) }
    func sideB() -> Side { Side(link: PeerLink(identity: sites.siteB, timing: timing), address: Self.addressB) }

    /// Runs A's initiation through B and back; returns the datagrams that crossed.
    @discardableResult
    func handshake(_ a: inout Side, _ b: inout Side, at now: Moment, wall: HandshakeTimestamp) throws -> (initiation: [UInt8], response: [UInt8]) {
        let initiation = try #require(a.link.timersDue(now: now, wallClock: wall, counters: &a.counters).initiation)
        let response = try #require(Self.initiation(initiation, to: &b, from: a.address, at: now))
        #expect(Self.response(response, to: &a, from: b.address, at: now))
        return (initiation, response)
    }

    static func initiation(_ message: [UInt8], to side: inout Side, from source: EndpointAddress, at now: Moment) -> [UInt8]? {
        side.link.startTurn()
        return message.withUnsafeBytes { side.link.receiveInitiation($0, from: source, now: now, counters: &side.counters) }
    }

    static func response(_ message: [UInt8], to side: inout Side, from source: EndpointAddress, at now: Moment) -> Bool {
        side.link.startTurn()
        var reply: [UInt8]?
        return message.withUnsafeBytes { side.link.receiveResponse($0, from: source, now: now, counters: &side.counters, reply: &reply) }
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
        let reason = DropReason.allCases.first { to.counters.drops($0) != before[$0] }
        return .failure(reason ?? .malformed)
    }
}

@Suite struct PeerLinkTests {
    let pair = LinkPair()
    var t0: Moment { pair.t0 }
    var timing: LinkTiming { pair.timing }
    var wallClock: HandshakeTimestamp { pair.wallClock }

    @Test func aHandshakeEstablishesASessionBothWays() throws {
        var a = pair.sideA(), b = pair.sideB()
        try pair.handshake(&a, &b, at: t0, wall: wallClock)
        #expect(a.link.isUp(now: t0))
        #expect(a.counters.sessionsEstablished == 1)
        #expect(a.link.latestHandshake == t0)
        #expect(b.link.sendingSession(now: t0) == nil, "the responder waits for the initiator's first message")
        #expect(pair.deliver(&a, &b, at: t0).isSuccess)
        #expect(b.counters.sessionsEstablished == 1)
        #expect(pair.deliver(&b, &a, at: t0).isSuccess)
        #expect(b.counters.initiationsReceived == 1 && b.counters.handshakesAnswered == 1 && a.counters.responsesReceived == 1)
    }

    @Test func aRestartedPeerIsRehandshakedAndTheSurvivorCountsANewSession() throws {
        var a = pair.sideA(), b = pair.sideB()
        try pair.handshake(&a, &b, at: t0, wall: wallClock)
        _ = pair.deliver(&a, &b, at: t0)

        var restarted = pair.sideB()  // B's process restarts: no session, no memory
        let later = t0 + .seconds(3)
        try pair.handshake(&restarted, &a, at: later, wall: HandshakeTimestamp(seconds: wallClock.seconds + 3, nanoseconds: 0))
        #expect(pair.deliver(&restarted, &a, at: later).isSuccess)
        #expect(a.counters.sessionsEstablished == 2)
        #expect(pair.deliver(&a, &restarted, at: later).isSuccess, "the survivor now seals with the new session")
    }

    @Test func aReplayedInitiationCostsNoDiffieHellmanAndDisplacesNothing() throws {
        var a = pair.sideA(), b = pair.sideB()
        let (initiation, _) = try pair.handshake(&a, &b, at: t0, wall: wallClock)
        _ = pair.deliver(&a, &b, at: t0)
        for step in 1...50 {
            #expect(LinkPair.initiation(initiation, to: &b, from: LinkPair.addressA, at: t0 + .milliseconds(step)) == nil)
        }
        #expect(b.counters.drops(.staleHandshake) == 50)
        #expect(b.counters.drops(.handshakeRateLimited) == 0, "replays are refused before the source's budget is charged")
        #expect(pair.deliver(&a, &b, at: t0 + .seconds(1)).isSuccess)
    }

    @Test func anOlderInitiationIsStaleEvenWhenNotSeenBefore() throws {
        var a = pair.sideA(), b = pair.sideB()
        var early = pair.sideA()
        let old = try #require(early.link.timersDue(now: t0, wallClock: wallClock, counters: &early.counters).initiation)
        try pair.handshake(&a, &b, at: t0, wall: HandshakeTimestamp(seconds: wallClock.seconds + 1, nanoseconds: 0))
        #expect(LinkPair.initiation(old, to: &b, from: LinkPair.addressA, at: t0 + .seconds(1)) == nil)
        #expect(b.counters.drops(.staleHandshake) == 1)
    }

    @Test func anInitiationRefusedForItsCipherMakesOlderOnesStale() throws {
        let sites = pair.sites
        let aesOnly = try SiteIdentity(local: sites.a, peer: sites.b.publicKey, ciphers: .only(.aes256GCM))
        var early = LinkPair.Side(link: PeerLink(identity: aesOnly, timing: timing), address: LinkPair.addressA)
        var a = LinkPair.Side(link: PeerLink(identity: aesOnly, timing: timing), address: LinkPair.addressA)
        let chachaOnly = try SiteIdentity(local: sites.b, peer: sites.a.publicKey, ciphers: .only(.chacha20Poly1305))
        var b = LinkPair.Side(link: PeerLink(identity: chachaOnly, timing: timing), address: LinkPair.addressB)
        let old = try #require(early.link.timersDue(now: t0, wallClock: wallClock, counters: &early.counters).initiation)
        let newer = try #require(a.link.timersDue(now: t0, wallClock: HandshakeTimestamp(seconds: wallClock.seconds + 1, nanoseconds: 0), counters: &a.counters).initiation)
        #expect(LinkPair.initiation(newer, to: &b, from: LinkPair.addressA, at: t0) == nil)
        #expect(b.counters.drops(.noCommonCipher) == 1 && b.link.refusedCipherOffer == .only(.aes256GCM))
        // Genuine too, and never seen: refused by its timestamp, not for its cipher again.
        #expect(LinkPair.initiation(old, to: &b, from: LinkPair.addressA, at: t0 + .seconds(1)) == nil)
        #expect(b.counters.drops(.staleHandshake) == 1 && b.counters.drops(.noCommonCipher) == 1)
    }

    @Test func aReplayedResponseNamesNoHandshake() throws {
        var a = pair.sideA(), b = pair.sideB()
        let (_, response) = try pair.handshake(&a, &b, at: t0, wall: wallClock)
        #expect(!LinkPair.response(response, to: &a, from: LinkPair.addressB, at: t0 + .milliseconds(1)))
        #expect(a.counters.drops(.unknownIndex) == 1)
        #expect(a.counters.sessionsEstablished == 1)
    }

    @Test func ownMessagesEchoedBackAreCountedAndNeverMakeASession() throws {
        var a = pair.sideA(), b = pair.sideB()
        let initiation = try #require(a.link.timersDue(now: t0, wallClock: wallClock, counters: &a.counters).initiation)
        #expect(LinkPair.initiation(initiation, to: &a, from: LinkPair.addressB, at: t0) == nil)
        let response = try #require(LinkPair.initiation(initiation, to: &b, from: LinkPair.addressA, at: t0))
        #expect(!LinkPair.response(response, to: &b, from: LinkPair.addressA, at: t0))
        #expect(a.counters.drops(.ownMessage) == 1)
        #expect(b.counters.drops(.unknownIndex) == 1, "B has no initiation in flight: its own response is refused by a comparison")
        #expect(a.counters.sessionsEstablished == 0 && b.counters.sessionsEstablished == 0)
    }

    @Test func aStrangerWithOurPublicKeyIsRefusedAsUnknownPeer() throws {
        var b = pair.sideB()
        var stranger = LinkPair.Side(
            link: PeerLink(identity: try SiteIdentity(local: .random(), peer: pair.sites.b.publicKey), timing: timing), address: LinkPair.addressA
        )
        let initiation = try #require(stranger.link.timersDue(now: t0, wallClock: wallClock, counters: &stranger.counters).initiation)
        #expect(LinkPair.initiation(initiation, to: &b, from: LinkPair.addressA, at: t0) == nil)
        #expect(b.counters.drops(.unknownPeer) == 1)
    }

    @Test func messagesOfAReplacedSessionAreRefused() throws {
        var a = pair.sideA(), b = pair.sideB()
        try pair.handshake(&a, &b, at: t0, wall: wallClock)
        let oldSession = try #require(a.link.sendingSession(now: t0))
        _ = pair.deliver(&a, &b, at: t0)
        // Two rekeys: the first session moves to `previous`, then is gone.
        for step in 1...2 {
            let now = t0 + timing.rekeyAfter * step + .seconds(step)
            let wall = HandshakeTimestamp(seconds: wallClock.seconds + UInt64(step) * 200, nanoseconds: 0)
            try pair.handshake(&a, &b, at: now, wall: wall)
            #expect(pair.deliver(&a, &b, at: now).isSuccess)
        }
        let stale = seal(oldSession, [1])
        var out = [UInt8](repeating: 0, count: 64)
        let opened = stale.withUnsafeBytes { bytes in
            out.withUnsafeMutableBytes { b.link.receiveTransport(bytes, type: .data, now: t0 + .seconds(3), into: $0, counters: &b.counters) }
        }
        #expect(opened == nil)
        #expect(b.counters.drops(.unknownSession) == 1)
    }

    @Test func keepalivesFollowTheInterval() throws {
        var a = pair.sideA(), b = pair.sideB()
        try pair.handshake(&a, &b, at: t0, wall: wallClock)
        _ = pair.deliver(&b, &a, at: t0)
        #expect(!a.link.timersDue(now: t0 + .seconds(4), wallClock: wallClock, counters: &a.counters).keepalive)
        #expect(a.link.timersDue(now: t0 + .seconds(5), wallClock: wallClock, counters: &a.counters).keepalive)
    }
}

/// The timers, driven by a fake clock: WireGuard's rekey, reject, retry, give-up and erase.
@Suite struct LinkTimerTests {
    let pair = LinkPair()
    var t0: Moment { pair.t0 }
    var timing: LinkTiming { pair.timing }

    func initiation(_ side: inout LinkPair.Side, at now: Moment) -> [UInt8]? {
        side.link.timersDue(now: now, wallClock: pair.wallClock, counters: &side.counters).initiation
    }

    @Test func theInitiatorRekeysAfterTwoMinutesAndSessionsAreRejectedAfterThree() throws {
        var a = pair.sideA(), b = pair.sideB()
        try pair.handshake(&a, &b, at: t0, wall: pair.wallClock)
        _ = pair.deliver(&a, &b, at: t0)
        _ = pair.deliver(&b, &a, at: t0)
        #expect(a.link.nextDeadline(now: t0) <= t0 + timing.rekeyAfter)
        // Keep the peer "up" so only the age can ask for a handshake.
        for second in stride(from: 5, to: 120, by: 5) {
            let now = t0 + .seconds(second)
            _ = pair.deliver(&b, &a, at: now)
            #expect(initiation(&a, at: now) == nil ? true : false, "no rekey at \(second) s")
        }
        _ = pair.deliver(&b, &a, at: t0 + timing.rekeyAfter)
        #expect(initiation(&a, at: t0 + timing.rekeyAfter) != nil)
        #expect(a.link.sendingSession(now: t0 + (timing.rejectAfter - .seconds(1))) != nil)
        #expect(a.link.sendingSession(now: t0 + timing.rejectAfter) == nil)
    }

    @Test func aSessionNearTheMessageLimitAsksForARekey() throws {
        var a = pair.sideA(), b = pair.sideB()
        try pair.handshake(&a, &b, at: t0, wall: pair.wallClock)
        _ = pair.deliver(&b, &a, at: t0)
        let session = try #require(a.link.sendingSession(now: t0))
        #expect(initiation(&a, at: t0 + .seconds(1)) == nil)
        session.advanceSendCounter(to: Session.rekeyAfterMessages)
        #expect(initiation(&a, at: t0 + .seconds(2)) != nil)
        session.advanceSendCounter(to: Session.rejectAfterMessages)
        #expect(a.link.sendingSession(now: t0 + .seconds(2)) == nil)
    }

    @Test func initiationsAreRetriedWithJitter() throws {
        var a = pair.sideA()
        #expect(initiation(&a, at: t0) != nil)
        #expect(initiation(&a, at: t0 + (timing.handshakeRetry - .milliseconds(1))) == nil)
        let deadline = a.link.nextDeadline(now: t0)
        #expect(deadline >= t0 + timing.handshakeRetry && deadline <= t0 + (timing.handshakeRetry + timing.retryJitter))
        #expect(initiation(&a, at: t0 + (timing.handshakeRetry + timing.retryJitter)) != nil)
    }

    @Test func initiationsGiveUpAfterNinetySecondsUntilAFrameWaits() throws {
        var a = pair.sideA()
        var now = t0
        var sent = 0
        while now.since(t0) < timing.handshakeAttemptTime + .seconds(10) {
            if initiation(&a, at: now) != nil { sent += 1 }
            now = now + .milliseconds(500)
        }
        #expect(sent >= 35 && sent <= 46, "about one per 2 to 2.33 s for 90 s: \(sent)")
        #expect(initiation(&a, at: now + .seconds(30)) == nil, "given up")
        a.link.frameWaiting(now: now + .seconds(30))
        #expect(initiation(&a, at: now + .seconds(30)) != nil, "a frame to send starts them again")
    }

    @Test func initiationsStartAgainAfterAPauseWithoutAFrame() throws {
        var a = pair.sideA()
        var now = t0
        while now.since(t0) < timing.handshakeAttemptTime + .seconds(5) {
            _ = initiation(&a, at: now)
            now = now + .milliseconds(500)
        }
        #expect(initiation(&a, at: now + .seconds(10)) == nil, "given up")
        // The TAP has no carrier while the peer is down: no frame will wait. A minute later
        // the gateway tries again by itself, and the deadline says when.
        let deadline = a.link.nextDeadline(now: now + .seconds(10))
        #expect(deadline <= now + timing.handshakePause)
        #expect(initiation(&a, at: now + timing.handshakePause) != nil)
    }

    @Test func allKeysAreErasedAfterThreeRejectAfterTimesWithoutASession() throws {
        var a = pair.sideA(), b = pair.sideB()
        try pair.handshake(&a, &b, at: t0, wall: pair.wallClock)
        _ = pair.deliver(&a, &b, at: t0)
        let oldSession = try #require(b.link.sendingSession(now: t0))
        // A second session: the first one's keys now wait in A's `previous` slot.
        let second = t0 + .seconds(1)
        var restartedB = pair.sideB()
        try pair.handshake(&restartedB, &a, at: second, wall: HandshakeTimestamp(seconds: pair.wallClock.seconds + 1, nanoseconds: 0))
        #expect(pair.deliver(&restartedB, &a, at: second).isSuccess)
        func openOld(_ side: inout LinkPair.Side, at now: Moment) -> DropReason? {
            var out = [UInt8](repeating: 0, count: 64)
            let before = side.counters.drops
            _ = seal(oldSession, [1]).withUnsafeBytes { bytes in
                out.withUnsafeMutableBytes { side.link.receiveTransport(bytes, type: .data, now: now, into: $0, counters: &side.counters) }
            }
            return DropReason.allCases.first { side.counters.drops($0) != before[$0] }
        }
        #expect(openOld(&a, at: second + .seconds(1)) == nil, "the previous session still opens what the peer sealed")
        _ = initiation(&a, at: second + (timing.eraseKeysAfter - .seconds(1)))
        // Past its reject-after time the previous session is let go at the next timer, long
        // before every key is erased.
        #expect(openOld(&a, at: second + (timing.eraseKeysAfter - .seconds(1))) == .unknownSession, "expired and let go")
        _ = a.link.timersDue(now: second + timing.eraseKeysAfter, wallClock: pair.wallClock, counters: &a.counters)
        #expect(openOld(&a, at: second + timing.eraseKeysAfter) == .unknownSession, "erased")
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
