import Testing
@testable import CausewayCore

/// A LAN joined to another is no worse off for it: storms are metered, the far side cannot
/// move a host of ours or fill our bridge, and a loop degrades to counters.
@Suite struct LinkSafetyTests {
    static let bpdu = MACAddress([0x01, 0x80, 0xC2, 0, 0, 0])

    /// Puts `frames` on `lan` in batches the in-memory LAN holds, turning both sides after
    /// each; returns how many frames the other LAN got.
    @discardableResult
    func pour(_ frames: [[UInt8]], on lan: MemoryFrameDevice, _ link: BackToBackLink) -> Int {
        let other = lan === link.lanA ? link.lanB : link.lanA
        var arrived = 0
        for start in stride(from: 0, to: frames.count, by: 200) {
            for frame in frames[start..<min(start + 200, frames.count)] { lan.inject(frame) }
            link.turn()
            link.turn()
            arrived += other.takeWritten().count
        }
        return arrived
    }

    @Test func aBroadcastStormReachesThePeerOnlyAtTheRate() throws {
        let link = try BackToBackLink(settingsA: "flood-rate = 100\nflood-burst = 100")
        try link.establish()
        _ = link.lanB.takeWritten()
        // A thousand broadcasts in no time at all: the burst passes, the rest is dropped.
        #expect(pour((0..<1000).map { Hosts.frame(from: Hosts.a1, to: .broadcast, seed: UInt8(truncatingIfNeeded: $0)) }, on: link.lanA, link) == 100)
        #expect(link.a.totalCounters.drops(.stormBroadcast) == 900)
        // Unicast to a host known behind the peer, and spanning tree's frames, are never metered.
        _ = link.carry(Hosts.frame(from: Hosts.b1, to: .broadcast), from: link.lanB)
        let unicast = Hosts.frame(from: Hosts.a1, to: Hosts.b1)
        let bpdu = Hosts.frame(from: Hosts.a1, to: Self.bpdu)
        #expect(pour(Array(repeating: unicast, count: 300) + Array(repeating: bpdu, count: 50), on: link.lanA, link) == 350)
        // A second later the bucket has refilled by the rate.
        link.advance(by: .seconds(1))
        #expect(pour((0..<500).map { Hosts.frame(from: Hosts.a1, to: .broadcast, seed: UInt8(truncatingIfNeeded: $0)) }, on: link.lanA, link) == 100)
    }

    @Test func floodedFramesFromThePeerAreMeteredBeforeTheLAN() throws {
        // A meters nothing on the way out; B meters what it would flood into its LAN.
        let link = try BackToBackLink(settingsA: "flood-rate = 0", settingsB: "flood-rate = 50\nflood-burst = 50")
        try link.establish()
        _ = link.lanB.takeWritten()
        let unknown = MACAddress([0x02, 0, 0, 0, 0xC, 9])
        #expect(pour((0..<300).map { Hosts.frame(from: Hosts.a1, to: $0 % 2 == 0 ? .broadcast : unknown) }, on: link.lanA, link) == 100)
        #expect(link.a.totalCounters.flooded == 300)
        #expect(link.b.totalCounters.drops(.stormBroadcast) == 100)
        #expect(link.b.totalCounters.drops(.stormUnknownUnicast) == 100)
    }

    @Test func theFarSideCannotClaimAHostOfOurs() throws {
        let link = try BackToBackLink()
        try link.establish()
        // a1 talks on A's LAN: learned local.
        _ = link.carry(Hosts.frame(from: Hosts.a1, to: .broadcast), from: link.lanA)
        _ = link.events(of: link.a)
        // A host on B's LAN sends with a1's address: refused, not delivered, a1 stays local.
        #expect(link.carry(Hosts.frame(from: Hosts.a1, to: .broadcast, seed: 9), from: link.lanB).isEmpty)
        #expect(link.a.totalCounters.drops(.macConflict) == 1)
        #expect(link.a.forwarder.table.lookup(Hosts.a1, now: link.now)?.location == .local)
        let claims = link.events(of: link.a).filter { $0.refusedClaimCount > 0 }
        #expect(claims.count == 1 && claims[0].refusedClaimCount == 1)
        #expect(claims.first?.refusedClaims[0] == RefusedClaims.Claim(address: Hosts.a1, reason: .macConflict))
        // Claimed again at once: dropped again, but logged once a minute only.
        _ = link.carry(Hosts.frame(from: Hosts.a1, to: .broadcast, seed: 10), from: link.lanB)
        #expect(link.a.totalCounters.drops(.macConflict) == 2)
        #expect(link.events(of: link.a).allSatisfy { $0.refusedClaimCount == 0 })
        // After the hold time without a1 on A's LAN, the host may really have moved.
        link.advance(by: Configuration.defaultMACHoldTime + .seconds(1))
        #expect(link.carry(Hosts.frame(from: Hosts.a1, to: .broadcast, seed: 11), from: link.lanB).count == 1)
        #expect(link.a.forwarder.table.lookup(Hosts.a1, now: link.now)?.location == .remote(peer: 0))
        #expect(link.a.totalCounters.macMoves == 1)
    }

    @Test func addressesFromAfarBeyondTheTableAreNotDelivered() throws {
        let link = try BackToBackLink(macTableSize: 16)
        try link.establish()
        var random = SplitMix64(seed: 3)
        let flood = (0..<200).map { _ in
            Hosts.frame(from: MACAddress(rawValue: random.next() & 0xFEFF_FFFF_FFFF), to: .broadcast)
        }
        let delivered = pour(flood, on: link.lanB, link)
        // What A's table could learn reached A's LAN; nothing more.
        #expect(delivered <= 16)
        #expect(link.a.forwarder.table.count <= 16)
        #expect(UInt64(delivered) + link.a.totalCounters.drops(.macUnlearnable) == 200)
    }

    @Test func aFlappingAddressIsDampedForThePeer() throws {
        // No hold time: every claim is a move, as a loop without spanning tree makes them.
        let link = try BackToBackLink(settingsA: "mac-hold-time = 0")
        try link.establish()
        for turn in 0..<6 {
            link.lanA.inject(Hosts.frame(from: Hosts.a1, to: .broadcast, seed: UInt8(turn)))
            link.turn()
            _ = link.carry(Hosts.frame(from: Hosts.a1, to: .broadcast, seed: UInt8(turn)), from: link.lanB)
            link.advance(by: .milliseconds(50))
        }
        #expect(link.a.totalCounters.drops(.macFlapping) > 0)
        let dropped = link.a.totalCounters.drops(.macFlapping)
        #expect(link.carry(Hosts.frame(from: Hosts.a1, to: .broadcast, seed: 99), from: link.lanB).isEmpty)
        #expect(link.a.totalCounters.drops(.macFlapping) == dropped + 1)
        // After the damping time, the peer may claim it again.
        link.advance(by: MACTable.dampingTime + .seconds(1))
        #expect(link.carry(Hosts.frame(from: Hosts.a1, to: .broadcast, seed: 100), from: link.lanB).count == 1)
    }

    @Test func theTunnelPortHasCarrierOnlyWhileThePeerIsUp() throws {
        let link = try BackToBackLink()
        #expect(link.lanA.hasCarrier, "carrier from the start: the first frames start the handshake")
        link.turn(link.a)
        link.advance(by: .seconds(1))
        link.turn(link.a)
        #expect(link.lanA.hasCarrier, "no peer has been up yet: nothing to lose carrier for")
        try link.establish()
        #expect(link.lanA.hasCarrier && link.lanB.hasCarrier)
        // B stops answering: after the dead-peer time A's port loses its carrier.
        let downAfter = link.a.link.timing.peerDownAfter
        var waited = Duration.zero
        while link.lanA.hasCarrier, waited < downAfter * 2 {
            link.turn(link.a)
            link.advance(by: .milliseconds(100))
            waited += .milliseconds(100)
        }
        #expect(!link.lanA.hasCarrier)
        #expect(waited <= downAfter + .seconds(1))
        // B back: carrier again within the first round trips.
        link.run(for: .seconds(2))
        #expect(link.lanA.hasCarrier)
    }

    @Test func refusedClaimsAreLoggedOncePerAddressAndAFewAtATime() {
        var claims = RefusedClaims()
        let now = Moment(nanoseconds: 1_000_000_000)
        let addresses = (0..<40).map { MACAddress(rawValue: 0x0200_0000_0000 + UInt64($0)) }
        // Forty addresses claimed at once: a burst of ten lines, not forty.
        var reported = 0
        for address in addresses where claims.shouldReport(address, now: now) { reported += 1 }
        #expect(reported == 10)
        // One address claimed again within the minute: no second line; after it, one.
        var single = RefusedClaims()
        let first = single.shouldReport(addresses[0], now: now)
        let again = single.shouldReport(addresses[0], now: now + .seconds(30))
        let aMinuteLater = single.shouldReport(addresses[0], now: now + .seconds(61))
        #expect(first)
        #expect(!again)
        #expect(aMinuteLater)
    }
}
