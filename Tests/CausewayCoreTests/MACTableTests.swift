import Testing
@testable import CausewayCore

@Suite struct MACTableTests {
    let hostA = MACAddress([2, 0, 0, 0, 0, 0xA])
    let hostB = MACAddress([2, 0, 0, 0, 0, 0xB])
    let start = Moment(nanoseconds: 1_000_000_000)

    @Test func learnsRefreshesAndMoves() {
        var table = MACTable(capacity: 16, agingTime: .seconds(300))
        #expect(table.learn(hostA, at: .local, vlan: nil, now: start) == .learned)
        #expect(table.learn(hostA, at: .local, vlan: nil, now: start + .seconds(1)) == .refreshed)
        #expect(table.learn(hostA, at: .remote(peer: 0), vlan: nil, now: start + .seconds(2)) == .moved(from: .local))
        #expect(table.lookup(hostA, now: start + .seconds(2))?.location == .remote(peer: 0))
    }

    @Test func neverLearnsAGroupAddress() {
        var table = MACTable(capacity: 16, agingTime: .seconds(300))
        #expect(table.learn(.broadcast, at: .local, vlan: nil, now: start) == .ignored)
        #expect(table.count == 0)
    }

    @Test func entriesAgeOut() {
        var table = MACTable(capacity: 16, agingTime: .seconds(5))
        _ = table.learn(hostA, at: .local, vlan: 7, now: start)
        #expect(table.lookup(hostA, now: start + .seconds(4))?.vlan == 7)
        #expect(table.lookup(hostA, now: start + .seconds(5)) == nil)
        #expect(table.removeExpired(now: start + .seconds(5)) == 1)
        #expect(table.count == 0)
    }

    @Test func refreshingPostponesAging() {
        var table = MACTable(capacity: 16, agingTime: .seconds(5))
        _ = table.learn(hostA, at: .local, vlan: nil, now: start)
        _ = table.learn(hostA, at: .local, vlan: nil, now: start + .seconds(4))
        #expect(table.lookup(hostA, now: start + .seconds(8)) != nil)
    }

    @Test func atTheCapNewAddressesAreRefusedAndKnownOnesKept() {
        var table = MACTable(capacity: 16, agingTime: .seconds(300))
        for index in 0..<16 {
            #expect(table.learn(MACAddress(rawValue: 0x0A00_0000_0000 + UInt64(index)), at: .local, vlan: nil, now: start) == .learned)
        }
        #expect(table.learn(hostB, at: .remote(peer: 0), vlan: nil, now: start) == .tableFull)
        #expect(table.lookup(hostB, now: start) == nil)
        let known = MACAddress(rawValue: 0x0A00_0000_0000)
        #expect(table.learn(known, at: .local, vlan: nil, now: start + .seconds(1)) == .refreshed)
        #expect(table.count == 16)
    }

    @Test func anAgedEntryFreesItsPlaceAtTheCap() {
        var table = MACTable(capacity: 16, agingTime: .seconds(5))
        for index in 0..<16 {
            _ = table.learn(MACAddress(rawValue: 0x0A00_0000_0000 + UInt64(index)), at: .local, vlan: nil, now: start)
        }
        #expect(table.learn(hostB, at: .local, vlan: nil, now: start + .seconds(6)) == .tableFull)
        table.removeExpired(now: start + .seconds(6))
        #expect(table.learn(hostB, at: .local, vlan: nil, now: start + .seconds(6)) == .learned)
    }
}

/// The peer's claims are checked against what this site saw: its own frames, or its bridge's.
@Suite struct MACClaimTests {
    let start = Moment(nanoseconds: 100_000_000_000)
    let host = MACAddress([2, 0, 0, 0, 0xA, 1])
    let hold = Duration.seconds(5)

    @Test func anAddressOnlyTheBridgeSawIsStillOurs() {
        var table = MACTable(capacity: 16, agingTime: .seconds(300))
        // Causeway never saw the host; the bridge learned it on a LAN port 2 s ago.
        #expect(table.noteSeenOnLAN(host, at: Moment(nanoseconds: start.nanoseconds - 2_000_000_000), now: start) == .learned)
        #expect(table.learn(host, at: .remote(peer: 0), vlan: nil, now: start, holdTime: hold) == .conflict)
        #expect(table.lookup(host, now: start)?.location == .local)
        // Once the bridge's sighting is older than the hold time, a move is accepted.
        #expect(table.learn(host, at: .remote(peer: 0), vlan: nil, now: start + .seconds(4), holdTime: hold) == .moved(from: .local))
    }

    @Test func anOlderSightingChangesNothingAndANewerOneBringsTheHostBack() {
        var table = MACTable(capacity: 16, agingTime: .seconds(300))
        #expect(table.learn(host, at: .remote(peer: 0), vlan: nil, now: start, holdTime: hold) == .learned)
        #expect(table.noteSeenOnLAN(host, at: Moment(nanoseconds: start.nanoseconds - 1_000_000_000), now: start) == .refreshed)
        #expect(table.lookup(host, now: start)?.location == .remote(peer: 0))
        // The host came back to this site: the bridge saw it here after the peer's frames.
        #expect(table.noteSeenOnLAN(host, at: start + .seconds(1), now: start + .seconds(2)) == .moved(from: .remote(peer: 0)))
        #expect(table.lookup(host, now: start + .seconds(2))?.location == .local)
    }
}

/// The open-addressing storage: in-place expiry, and probes that stay whole after deletions.
@Suite struct MACTableStorageTests {
    let start = Moment(nanoseconds: 1_000_000_000)

    /// Unicast addresses whose probes all start at the same slot of `table`.
    func colliding(_ count: Int, in table: MACTable) -> [MACAddress] {
        let candidates = (0..<UInt64(20_000)).map { MACAddress(rawValue: 0x0200_0000_0000 + $0) }
        let home = table.homeSlot(of: candidates[0].rawValue)
        return Array(candidates.filter { table.homeSlot(of: $0.rawValue) == home }.prefix(count))
    }

    @Test func addressesPiledOnOneSlotAreRefusedPastTheProbeLimit() {
        // A table with room for 64, and 33 addresses with one home slot: only a sender who
        // knew the process's hash seed could pick these, and still it gets no long probe.
        var table = MACTable(capacity: 64, agingTime: .seconds(5))
        let pile = colliding(MACTable.maximumProbe + 1, in: table)
        #expect(pile.count == MACTable.maximumProbe + 1)
        let outcomes = pile.map { table.learn($0, at: .local, vlan: nil, now: start) }
        #expect(outcomes.prefix(MACTable.maximumProbe).allSatisfy { $0 == .learned })
        #expect(outcomes.last == .tableFull)
        #expect(pile.prefix(MACTable.maximumProbe).allSatisfy { table.lookup($0, now: start) != nil })
        #expect(table.lookup(pile[MACTable.maximumProbe], now: start) == nil)
    }

    @Test func expiryKeepsCollidingEntriesFindable() {
        var table = MACTable(capacity: 8, agingTime: .seconds(5))
        let run = colliding(4, in: table)
        #expect(run.count == 4)
        // The first of the run ages out first; the rest sit behind it in the probe sequence.
        _ = table.learn(run[0], at: .local, vlan: nil, now: start)
        _ = table.learn(run[1], at: .local, vlan: 1, now: start + .seconds(3))
        _ = table.learn(run[2], at: .remote(peer: 0), vlan: 2, now: start + .seconds(3))
        _ = table.learn(run[3], at: .local, vlan: 3, now: start)

        let later = start + .seconds(6)
        #expect(table.removeExpired(now: later) == 2)
        #expect(table.count == 2)
        #expect(table.lookup(run[1], now: later)?.vlan == 1)
        #expect(table.lookup(run[2], now: later)?.location == .remote(peer: 0))
        #expect(table.lookup(run[0], now: later) == nil)
        #expect(table.lookup(run[3], now: later) == nil)
        // The freed slots are used again, and nothing was lost on the way.
        #expect(table.learn(run[3], at: .local, vlan: nil, now: later) == .learned)
        #expect(table.learn(run[1], at: .local, vlan: 1, now: later) == .refreshed)
        #expect(table.count == 3)
    }

    @Test func expiryRemovesInPlaceAndMatchesAModel() {
        // Random learning and sweeps against a dictionary that does the same by brute force;
        // a small table, so runs are long and wrap around its end.
        var generator = SplitMix64(seed: 42)
        var table = MACTable(capacity: 24, agingTime: .seconds(10))
        var model: [MACAddress: Moment] = [:]
        let addresses = (0..<64).map { _ in MACAddress(rawValue: 0x0200_0000_0000 | (generator.next() & 0xFFFF_FFFF)) }
        var now = start
        for round in 0..<2000 {
            now = now + .milliseconds(Int(generator.next() % 700))
            let address = addresses[Int(generator.next() % UInt64(addresses.count))]
            let outcome = table.learn(address, at: .local, vlan: nil, now: now)
            if model[address] != nil || model.count < 24 {
                #expect(outcome != MACTable.LearnOutcome.tableFull, "round \(round)")
                model[address] = now
            } else {
                #expect(outcome == MACTable.LearnOutcome.tableFull, "round \(round)")
            }
            if round % 50 == 0 {
                let live = model.filter { now.since($0.value) < .seconds(10) }
                #expect(table.removeExpired(now: now) == model.count - live.count, "round \(round)")
                model = live
                #expect(table.count == model.count, "round \(round)")
            }
            let wrong = addresses.filter { candidate in
                let expected = model[candidate].map { now.since($0) < .seconds(10) } ?? false
                return (table.lookup(candidate, now: now) != nil) != expected
            }
            #expect(wrong.isEmpty, "round \(round)")
        }
    }

    @Test func aDetachedCopyKeepsItsRows() {
        var table = MACTable(capacity: 8, agingTime: .seconds(300))
        let host = MACAddress([2, 0, 0, 0, 0, 1])
        _ = table.learn(host, at: .local, vlan: nil, now: start)
        let copy = table.detachedCopy()
        _ = table.learn(host, at: .remote(peer: 0), vlan: nil, now: start + .seconds(1))
        _ = table.learn(MACAddress([2, 0, 0, 0, 0, 2]), at: .local, vlan: nil, now: start + .seconds(1))
        #expect(copy.lookup(host, now: start + .seconds(1))?.location == .local)
        #expect(copy.count == 1)
        #expect(copy.liveEntries(now: start + .seconds(1)).map(\.address) == [host])
    }
}

@Suite struct ForwarderTests {
    let local = MACAddress([2, 0, 0, 0, 0, 1])
    let otherLocal = MACAddress([2, 0, 0, 0, 0, 2])
    let remote = MACAddress([2, 0, 0, 0, 0, 3])
    let now = Moment(nanoseconds: 5_000_000_000)

    func header(from source: MACAddress, to destination: MACAddress) -> EthernetHeader {
        let bytes = destination.bytes + source.bytes + [0x08, 0x00] + Array(repeating: 0, count: 46)
        return bytes.withUnsafeBytes { EthernetHeader(frame: $0, layout: FrameLayout(frame: $0)!) }
    }

    @Test func floodsBroadcastAndUnknownUnicast() {
        var forwarder = Forwarder(table: MACTable(capacity: 64, agingTime: .seconds(300)))
        var counters = Counters()
        #expect(forwarder.frameFromLAN(header(from: local, to: .broadcast), now: now, counters: &counters) == .flood)
        #expect(forwarder.frameFromLAN(header(from: local, to: remote), now: now, counters: &counters) == .flood)
    }

    @Test func suppressesFramesToALocalAddress() {
        var forwarder = Forwarder(table: MACTable(capacity: 64, agingTime: .seconds(300)))
        var counters = Counters()
        _ = forwarder.frameFromLAN(header(from: otherLocal, to: .broadcast), now: now, counters: &counters)
        #expect(forwarder.frameFromLAN(header(from: local, to: otherLocal), now: now, counters: &counters) == .suppress)
    }

    @Test func sendsFramesToARemoteAddressToThePeer() {
        var forwarder = Forwarder(table: MACTable(capacity: 64, agingTime: .seconds(300)))
        var counters = Counters()
        _ = forwarder.frameFromPeer(header(from: remote, to: .broadcast), peer: 0, now: now, holdTime: .zero, counters: &counters)
        #expect(forwarder.frameFromLAN(header(from: local, to: remote), now: now, counters: &counters) == .sendToPeer(0))
    }

    @Test func aFrameFromThePeerIsMeteredWhereTheBridgeMayFloodIt() {
        var forwarder = Forwarder(table: MACTable(capacity: 64, agingTime: .seconds(300)))
        var counters = Counters()
        _ = forwarder.frameFromLAN(header(from: local, to: .broadcast), now: now, counters: &counters)
        let fromPeer = { (destination: MACAddress, isHub: Bool) in
            forwarder.frameFromPeer(header(from: remote, to: destination), peer: 0, now: now, holdTime: .zero, isHub: isHub, counters: &counters)
        }
        #expect(fromPeer(.broadcast, false) == .toLAN(flooded: true))
        #expect(fromPeer(otherLocal, false) == .toLAN(flooded: true), "unknown here: the bridge floods it")
        #expect(fromPeer(local, false) == .toLAN(flooded: false))
        #expect(fromPeer(local, true) == .relayed(.lanOnly))
        #expect(fromPeer(remote, true) == .relayed(.nowhere), "behind its own sender")
        #expect(forwarder.frameFromPeer(header(from: local, to: .broadcast), peer: 0, now: now, holdTime: .seconds(5), counters: &counters) == .refused(.macConflict))
    }

    @Test func countsAnAddressThatMovesBetweenSites() {
        var forwarder = Forwarder(table: MACTable(capacity: 64, agingTime: .seconds(300)))
        var counters = Counters()
        _ = forwarder.frameFromLAN(header(from: local, to: .broadcast), now: now, counters: &counters)
        _ = forwarder.frameFromPeer(header(from: local, to: .broadcast), peer: 0, now: now, holdTime: .zero, counters: &counters)
        #expect(counters.macMoves == 1)
        #expect(forwarder.frameFromLAN(header(from: otherLocal, to: local), now: now, counters: &counters) == .sendToPeer(0))
    }

    @Test func countsAddressesRefusedAtTheCap() {
        var forwarder = Forwarder(table: MACTable(capacity: 16, agingTime: .seconds(300)))
        var counters = Counters()
        for index in 0..<20 {
            _ = forwarder.frameFromLAN(header(from: MACAddress(rawValue: 0x0200_0000_1000 + UInt64(index)), to: .broadcast), now: now, counters: &counters)
        }
        #expect(counters.macTableFull == 4)
    }
}
