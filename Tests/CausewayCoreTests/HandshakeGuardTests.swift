import Testing
@testable import CausewayCore

/// The checks in front of every Diffie-Hellman: mac1, the cookie under load, the per-source
/// limit and the per-turn budget.
@Suite struct HandshakeGuardTests {
    let pair = LinkPair()
    var t0: Moment { pair.t0 }

    static func source(_ host: UInt64) -> EndpointAddress { EndpointAddress(high: 0, low: 0xFFFF_C612_0000 | host, port: 40000) }

    /// An initiation with a valid mac1 for B and a garbage body: one who knows B's public key.
    func forgedInitiation() -> [UInt8] {
        var message = [WireFormat.version, WireFormat.MessageType.handshakeInitiation.rawValue, 0, 0]
            + (4..<WireFormat.Initiation.length).map { _ in UInt8.random(in: 0...255) }
        Handshake.writeMAC1(into: &message, macAt: WireFormat.Initiation.mac1, receiver: pair.sites.b.publicKey)
        return message
    }

    func admit(_ guardian: inout HandshakeGuard, _ message: [UInt8], from source: EndpointAddress, at now: Moment) -> HandshakeGuard.Verdict {
        message.withUnsafeBytes {
            guardian.admit($0, macAt: WireFormat.Initiation.mac1, from: source, keys: pair.sites.siteB.macs, now: now)
        }
    }

    @Test func junkWithoutMAC1IsDroppedFirst() {
        var guardian = HandshakeGuard()
        var junk = forgedInitiation()
        junk[WireFormat.Initiation.mac1] ^= 1
        #expect(admit(&guardian, junk, from: Self.source(1), at: t0) == .drop(.badMAC1))
        #expect(!guardian.isUnderLoad(now: t0), "junk that fails mac1 is not load")
    }

    @Test func eachSourceGetsFiveAtOnceThenTwentyASecond() {
        var guardian = HandshakeGuard()
        var verdicts: [HandshakeGuard.Verdict] = []
        for _ in 0..<6 {
            guardian.startTurn()
            verdicts.append(admit(&guardian, forgedInitiation(), from: Self.source(1), at: t0))
        }
        #expect(verdicts == Array(repeating: .proceed, count: 5) + [.drop(.handshakeRateLimited)])
        guardian.startTurn()
        #expect(admit(&guardian, forgedInitiation(), from: Self.source(2), at: t0) == .proceed, "another source has its own bucket")
        guardian.startTurn()
        #expect(admit(&guardian, forgedInitiation(), from: Self.source(1), at: t0 + .milliseconds(50)) == .proceed, "refilled at 20/s")
    }

    @Test func aTurnAffordsFourAndMoreMeansLoad() {
        var guardian = HandshakeGuard()
        guardian.startTurn()
        let verdicts = (1...5).map { admit(&guardian, forgedInitiation(), from: Self.source($0), at: t0) }
        #expect(verdicts == Array(repeating: .proceed, count: 4) + [.drop(.handshakeRateLimited)])
        #expect(guardian.isUnderLoad(now: t0))
        #expect(!guardian.isUnderLoad(now: t0 + HandshakeGuard.loadHold))
    }

    @Test func underLoadOnlyAValidCookieFromTheSameAddressPasses() throws {
        var guardian = HandshakeGuard()
        for host in 1...UInt64(HandshakeGuard.loadThreshold + 1) {
            guardian.startTurn()
            _ = admit(&guardian, forgedInitiation(), from: Self.source(host), at: t0)
        }
        #expect(guardian.isUnderLoad(now: t0))
        guardian.startTurn()
        let probe = forgedInitiation()
        #expect(admit(&guardian, probe, from: Self.source(100), at: t0) == .sendCookie)

        // The sender at that address takes the cookie and puts it into mac2.
        let reply = probe.withUnsafeBytes {
            guardian.cookieReply(to: $0, macAt: WireFormat.Initiation.mac1, indexAt: WireFormat.Initiation.senderIndex,
                                 from: Self.source(100), keys: pair.sites.siteB.macs, now: t0)
        }
        #expect(reply.count == WireFormat.CookieReply.length && reply.count < probe.count, "no amplification")
        var jar = CookieJar()
        let mac1 = Array(probe[WireFormat.Initiation.mac1..<WireFormat.Initiation.mac2])
        #expect(reply.withUnsafeBytes { jar.take($0, answering: mac1, keys: pair.sites.siteA.macs, now: t0) })
        var retry = forgedInitiation()
        _ = jar.writeMACs(into: &retry, macAt: WireFormat.Initiation.mac1, keys: pair.sites.siteA.macs, now: t0)
        #expect(admit(&guardian, retry, from: Self.source(100), at: t0) == .proceed)
        guardian.startTurn()
        #expect(admit(&guardian, retry, from: Self.source(101), at: t0) == .sendCookie, "the cookie is bound to its address")
        #expect(reply.withUnsafeBytes { !jar.take($0, answering: [UInt8](repeating: 7, count: 16), keys: pair.sites.siteA.macs, now: t0) },
                "a cookie reply opens only for the message it answers")
    }

    @Test func aCookieDiesWithItsSecret() throws {
        var guardian = HandshakeGuard()
        for host in 1...UInt64(HandshakeGuard.loadThreshold + 1) {
            guardian.startTurn()
            _ = admit(&guardian, forgedInitiation(), from: Self.source(host), at: t0)
        }
        let probe = forgedInitiation()
        let reply = probe.withUnsafeBytes {
            guardian.cookieReply(to: $0, macAt: WireFormat.Initiation.mac1, indexAt: WireFormat.Initiation.senderIndex,
                                 from: Self.source(100), keys: pair.sites.siteB.macs, now: t0)
        }
        var jar = CookieJar()
        let mac1 = Array(probe[WireFormat.Initiation.mac1..<WireFormat.Initiation.mac2])
        _ = reply.withUnsafeBytes { jar.take($0, answering: mac1, keys: pair.sites.siteA.macs, now: t0) }
        // Two minutes on, still under load: the secret has changed, the old cookie is refused.
        let later = t0 + HandshakeGuard.cookieLifetime
        for host in 200...UInt64(200 + HandshakeGuard.loadThreshold) {
            guardian.startTurn()
            _ = admit(&guardian, forgedInitiation(), from: Self.source(host), at: later)
        }
        var retry = forgedInitiation()
        _ = jar.writeMACs(into: &retry, macAt: WireFormat.Initiation.mac1, keys: pair.sites.siteA.macs, now: t0)
        guardian.startTurn()
        #expect(admit(&guardian, retry, from: Self.source(100), at: later) == .sendCookie)
    }

    /// The whole exchange through two links: B under a flood answers A's initiation with a
    /// cookie, A sends again at once with mac2, B answers, the session comes up.
    @Test func aLinkUnderLoadComesUpInOneExtraRoundTrip() throws {
        var a = pair.sideA(), b = pair.sideB()
        for host in 1...UInt64(HandshakeGuard.loadThreshold + 1) {
            _ = LinkPair.initiation(forgedInitiation(), to: &b, from: Self.source(host), at: t0)
        }
        #expect(b.link.isUnderLoad(now: t0))
        let first = try #require(a.link.timersDue(now: t0, wallClock: pair.wallClock, counters: &a.counters).initiation)
        let cookieReply = try #require(LinkPair.initiation(first, to: &b, from: a.address, at: t0))
        #expect(WireFormat.messageType(of: cookieReply.withUnsafeBytes { $0 }) == .cookieReply)
        #expect(b.counters.drops(.cookieRequired) >= 1 && b.counters.cookieRepliesSent >= 1)
        _ = cookieReply.withUnsafeBytes { a.link.receiveCookieReply($0, now: t0, counters: &a.counters) }
        #expect(a.counters.cookieRepliesReceived == 1)
        let second = try #require(a.link.timersDue(now: t0, wallClock: pair.wallClock, counters: &a.counters).initiation,
                                  "sent again at once, not after the retry interval")
        let response = try #require(LinkPair.initiation(second, to: &b, from: a.address, at: t0))
        #expect(WireFormat.messageType(of: response.withUnsafeBytes { $0 }) == .handshakeResponse)
        #expect(LinkPair.response(response, to: &a, from: b.address, at: t0))

        // A replay of the cookie reply finds no handshake in flight.
        _ = cookieReply.withUnsafeBytes { a.link.receiveCookieReply($0, now: t0, counters: &a.counters) }
        #expect(a.counters.drops(.unknownIndex) == 1)
    }

    /// Both gateways flooded: the response, too, is answered with a cookie, and sent again
    /// once with mac2 instead of waiting for the initiator's retry.
    @Test func whenBothSidesAreUnderLoadTheResponseIsResentWithACookie() throws {
        var a = pair.sideA(), b = pair.sideB()
        for host in 1...UInt64(HandshakeGuard.loadThreshold + 1) {
            _ = LinkPair.initiation(forgedInitiation(), to: &b, from: Self.source(host), at: t0)
            var toA = [WireFormat.version, WireFormat.MessageType.handshakeInitiation.rawValue, 0, 0]
                + (4..<WireFormat.Initiation.length).map { _ in UInt8.random(in: 0...255) }
            Handshake.writeMAC1(into: &toA, macAt: WireFormat.Initiation.mac1, receiver: pair.sites.a.publicKey)
            _ = LinkPair.initiation(toA, to: &a, from: Self.source(host), at: t0)
        }
        #expect(a.link.isUnderLoad(now: t0) && b.link.isUnderLoad(now: t0))
        let first = try #require(a.link.timersDue(now: t0, wallClock: pair.wallClock, counters: &a.counters).initiation)
        let cookieFromB = try #require(LinkPair.initiation(first, to: &b, from: a.address, at: t0))
        #expect(cookieFromB.withUnsafeBytes { a.link.receiveCookieReply($0, now: t0, counters: &a.counters) } == nil)
        let second = try #require(a.link.timersDue(now: t0, wallClock: pair.wallClock, counters: &a.counters).initiation)
        let response = try #require(LinkPair.initiation(second, to: &b, from: a.address, at: t0))

        a.link.startTurn()
        var cookieFromA: [UInt8]?
        #expect(!response.withUnsafeBytes { a.link.receiveResponse($0, from: b.address, now: t0, counters: &a.counters, reply: &cookieFromA) })
        let reply = try #require(cookieFromA, "A under load answers the response with a cookie")
        let resent = try #require(reply.withUnsafeBytes { b.link.receiveCookieReply($0, now: t0, counters: &b.counters) })
        #expect(Array(resent[WireFormat.Response.mac2...]) != Array(response[WireFormat.Response.mac2...]), "now with a mac2")
        #expect(Array(resent[0..<WireFormat.Response.mac1]) == Array(response[0..<WireFormat.Response.mac1]), "the same Noise message")
        #expect(LinkPair.response(resent, to: &a, from: b.address, at: t0))
        #expect(reply.withUnsafeBytes { b.link.receiveCookieReply($0, now: t0, counters: &b.counters) } == nil, "resent once only")
    }

    /// One who saw our initiation's index forges responses to it: without our public key
    /// they fail mac1 (an HMAC, no Diffie-Hellman); with it they fail the Noise tag; either
    /// way the handshake in flight survives and the genuine response still completes it.
    @Test func forgedResponsesToTheHandshakeInFlightCostNoSession() throws {
        var a = pair.sideA(), b = pair.sideB()
        let initiation = try #require(a.link.timersDue(now: t0, wallClock: pair.wallClock, counters: &a.counters).initiation)
        let genuine = try #require(LinkPair.initiation(initiation, to: &b, from: a.address, at: t0))
        var forged = genuine
        for index in WireFormat.Response.ephemeral..<WireFormat.Response.mac1 { forged[index] = UInt8.random(in: 0...255) }
        #expect(!LinkPair.response(forged, to: &a, from: b.address, at: t0))
        #expect(a.counters.drops(.badMAC1) == 1, "the old mac1 does not cover the new body")
        Handshake.writeMAC1(into: &forged, macAt: WireFormat.Response.mac1, receiver: pair.sites.a.publicKey)
        #expect(!LinkPair.response(forged, to: &a, from: b.address, at: t0))
        #expect(a.counters.drops(.authentication) + a.counters.drops(.malformed) == 1)
        #expect(LinkPair.response(genuine, to: &a, from: b.address, at: t0), "the handshake in flight survived")
    }
}
