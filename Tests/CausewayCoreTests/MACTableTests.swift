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
        forwarder.frameFromPeer(header(from: remote, to: .broadcast), peer: 0, now: now, counters: &counters)
        #expect(forwarder.frameFromLAN(header(from: local, to: remote), now: now, counters: &counters) == .sendToPeer)
    }

    @Test func countsAnAddressThatMovesBetweenSites() {
        var forwarder = Forwarder(table: MACTable(capacity: 64, agingTime: .seconds(300)))
        var counters = Counters()
        _ = forwarder.frameFromLAN(header(from: local, to: .broadcast), now: now, counters: &counters)
        forwarder.frameFromPeer(header(from: local, to: .broadcast), peer: 0, now: now, counters: &counters)
        #expect(counters.macMoves == 1)
        #expect(forwarder.frameFromLAN(header(from: otherLocal, to: local), now: now, counters: &counters) == .sendToPeer)
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
