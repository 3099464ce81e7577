@testable import CausewayCore
import Testing

/// Two sites whose gateways run several lanes each (Lane), in memory: each lane a data path
/// with its own LAN queue and socket, the sockets of a site sharing its address, and the
/// network steering each datagram to a lane as the kernel's program does. Lanes turn one
/// after the other here; the daemon runs them on threads of their own, which the netns
/// tests drive (test_lanes_*).
final class LanedSites {
    let network = MemoryNetwork()
    let a: [DataPath]
    let b: [DataPath]
    let lansA: [MemoryFrameDevice]
    let lansB: [MemoryFrameDevice]
    let wansA: [MemorySocket]
    let wansB: [MemorySocket]
    private(set) var now = Moment(nanoseconds: 5_000_000_000)
    private var wallSeconds: UInt64 = 1_700_000_000

    /// `settings`: further top-level TOML lines for both sides.
    init(lanesA: Int, lanesB: Int, settings: String = "") throws {
        let sites = TwoSites()
        let configurationA = try BackToBackLink.configuration(peer: "198.18.0.2:51820", macTableSize: 64, icmpTooBig: false, settings: settings)
        let configurationB = try BackToBackLink.configuration(peer: "198.18.0.1:51820", macTableSize: 64, icmpTooBig: false, settings: settings)
        lansA = (0..<lanesA).map { _ in MemoryFrameDevice() }
        lansB = (0..<lanesB).map { _ in MemoryFrameDevice() }
        wansA = (0..<lanesA).map { [network] _ in network.socket(at: BackToBackLink.addressA) }
        wansB = (0..<lanesB).map { [network] _ in network.socket(at: BackToBackLink.addressB) }
        let boardA = lanesA > 1 ? LaneBoard(laneCount: lanesA) : nil, boardB = lanesB > 1 ? LaneBoard(laneCount: lanesB) : nil
        a = (0..<lanesA).map { [lansA, wansA] index in
            DataPath(configuration: configurationA, identities: [sites.siteA], lan: lansA[index], wan: wansA[index], lane: Lane(index: index, of: lanesA), board: boardA)
        }
        b = (0..<lanesB).map { [lansB, wansB] index in
            DataPath(configuration: configurationB, identities: [sites.siteB], lan: lansB[index], wan: wansB[index], lane: Lane(index: index, of: lanesB), board: boardB)
        }
    }

    func turn() {
        let wallClock = HandshakeTimestamp(seconds: wallSeconds + UInt64(now.nanoseconds / 1_000_000_000), nanoseconds: UInt32(now.nanoseconds % 1_000_000_000))
        // Two loops, not `a + b`: this runs inside the allocation test's window.
        for path in a { turn(path, wallClock: wallClock) }
        for path in b { turn(path, wallClock: wallClock) }
    }

    /// As the lane's thread turns: the timers only when `tend` finds them due.
    private func turn(_ path: DataPath, wallClock: HandshakeTimestamp) {
        _ = path.tend(now: now, wallClock: { wallClock }, report: { _, _ in })
        path.receiveFromPeer(now: now)
        path.forwardFromLAN(now: now)
    }

    func run(for duration: Duration, step: Duration = .milliseconds(10)) {
        let end = now + duration
        while now < end {
            turn()
            now = now + step
        }
        turn()
    }

    func establish() throws {
        run(for: .seconds(2))
        guard a[0].link.isUp(now: now), b[0].link.isUp(now: now), !a[0].pathMTU.isSearching, !b[0].pathMTU.isSearching else {
            throw BackToBackLink.LinkNotUp()
        }
    }

    /// What every LAN queue of a site got, taken.
    static func taken(_ lans: [MemoryFrameDevice]) -> [[MemoryFrameDevice.Written]] {
        lans.map { $0.takeWritten() }
    }
}

@Suite struct LaneTests {
    static func broadcastHeader(from source: MACAddress) -> EthernetHeader {
        Hosts.frame(from: source, to: .broadcast).withUnsafeBytes { EthernetHeader(frame: $0, layout: FrameLayout(frame: $0)!) }
    }

    @Test func everyLaneSealsWithTheSessionsLaneZeroMade() throws {
        let sites = try LanedSites(lanesA: 2, lanesB: 2)
        try sites.establish()
        let current = try #require(sites.a[0].link.current)
        #expect(sites.a[1].link.current === current)
        #expect(sites.b[1].link.current === sites.b[0].link.current)
        #expect(sites.a[1].peerAddress == BackToBackLink.addressB)
        #expect(sites.a[1].pathMTU.confirmed == sites.a[0].pathMTU.confirmed)
        // Only lane 0 ever takes part in a handshake.
        for follower in [sites.a[1], sites.b[1]] {
            #expect(follower.totalCounters.handshakesInitiated == 0)
            #expect(follower.totalCounters.handshakesAnswered == 0)
            #expect(follower.totalCounters.sessionsEstablished == 0)
        }
    }

    @Test func aFrameCrossesInItsLanesCounterSpaceToThePeersSameLane() throws {
        let sites = try LanedSites(lanesA: 2, lanesB: 2)
        try sites.establish()
        _ = LanedSites.taken(sites.lansB)
        var laneBytes: [UInt8] = []
        sites.network.loses = { datagram in
            if datagram[WireFormat.typeOffset] == WireFormat.MessageType.data.rawValue { laneBytes.append(datagram[WireFormat.counterOffset]) }
            return false
        }
        let frame = Hosts.frame(from: Hosts.a1, to: Hosts.b1, seed: 4)
        sites.lansA[1].inject(frame)
        sites.turn()
        sites.turn()
        let got = LanedSites.taken(sites.lansB)
        #expect(got[0].isEmpty)
        #expect(got[1].map(\.frame) == [frame])
        #expect(laneBytes == [1])
    }

    @Test func framesOfBothLanesInterleavedArriveEachOnceAndNoneIsAReplay() throws {
        let sites = try LanedSites(lanesA: 2, lanesB: 2)
        try sites.establish()
        _ = LanedSites.taken(sites.lansB)
        var sent: [[[UInt8]]] = [[], []]
        for round in 0..<150 {
            for lane in 0..<2 {
                let frame = Hosts.frame(from: Hosts.a1, to: Hosts.b1, length: 200, seed: UInt8(truncatingIfNeeded: round * 2 + lane))
                sent[lane].append(frame)
                sites.lansA[lane].inject(frame)
            }
            if round % 10 == 9 { sites.turn() }
        }
        sites.turn()
        sites.turn()
        let got = LanedSites.taken(sites.lansB)
        #expect(got[0].map(\.frame) == sent[0])
        #expect(got[1].map(\.frame) == sent[1])
        let drops = sites.b.reduce(into: Counters()) { $0.add($1.totalCounters) }.drops
        #expect(drops[.replay] == 0 && drops[.wrongLane] == 0)
    }

    @Test func gatewaysWithDifferentLaneCountsCarryEveryFrameBothWays() throws {
        let sites = try LanedSites(lanesA: 3, lanesB: 2)
        try sites.establish()
        _ = LanedSites.taken(sites.lansA)
        _ = LanedSites.taken(sites.lansB)
        for lane in 0..<3 { sites.lansA[lane].inject(Hosts.frame(from: Hosts.a1, to: Hosts.b1, seed: UInt8(lane))) }
        for lane in 0..<2 { sites.lansB[lane].inject(Hosts.frame(from: Hosts.b1, to: Hosts.a1, seed: UInt8(10 + lane))) }
        sites.turn()
        sites.turn()
        let atB = LanedSites.taken(sites.lansB), atA = LanedSites.taken(sites.lansA)
        // A's lane k reaches B's lane k modulo 2; B's lanes reach A's lanes 0 and 1.
        #expect(atB[0].map(\.frame) == [0, 2].map { Hosts.frame(from: Hosts.a1, to: Hosts.b1, seed: UInt8($0)) })
        #expect(atB[1].map(\.frame) == [Hosts.frame(from: Hosts.a1, to: Hosts.b1, seed: 1)])
        #expect(atA[0].map(\.frame) == [Hosts.frame(from: Hosts.b1, to: Hosts.a1, seed: 10)])
        #expect(atA[1].map(\.frame) == [Hosts.frame(from: Hosts.b1, to: Hosts.a1, seed: 11)])
        #expect(atA[2].isEmpty)
    }

    @Test func splitFramesOfTwoLanesNeverMixInOneReassembler() throws {
        // A's lanes 0 and 2 both reach B's lane 0: their split frames meet in one reassembler.
        let sites = try LanedSites(lanesA: 3, lanesB: 2)
        try sites.establish()
        _ = LanedSites.taken(sites.lansB)
        // The first frame of lane 0 loses its last piece and waits, unfinished, while lane 2's
        // frame (the same number, were the lanes' numbers not apart) arrives whole.
        var fragments = 0
        sites.network.loses = { datagram in
            guard datagram[WireFormat.typeOffset] == WireFormat.MessageType.fragment.rawValue else { return false }
            fragments += 1
            return fragments == 2
        }
        let waiting = Hosts.frame(from: Hosts.a1, to: Hosts.b1, length: 2500, seed: 1)
        let whole = Hosts.frame(from: Hosts.a1, to: Hosts.b1, length: 2500, seed: 2)
        sites.lansA[0].inject(waiting)
        sites.turn()
        sites.lansA[2].inject(whole)
        sites.turn()
        sites.turn()
        let got = LanedSites.taken(sites.lansB)
        #expect(got[0].map(\.frame) == [whole])
        #expect(sites.b[0].totalCounters.drops[.fragmentOverlap] == 0)
        #expect(sites.b[0].reassembler.framesInProgress == 1)
    }

    @Test func handshakesAndControlMessagesOnAnotherLaneAreRefused() throws {
        let sites = try LanedSites(lanesA: 2, lanesB: 2)
        var handshakesAndControl: [[UInt8]] = []
        sites.network.loses = { datagram in
            let type = WireFormat.MessageType(rawValue: datagram[WireFormat.typeOffset])
            if type == .handshakeInitiation || type == .control { handshakesAndControl.append(Array(datagram)) }
            return false
        }
        try sites.establish()
        sites.network.loses = nil
        #expect(handshakesAndControl.count >= 2)
        for datagram in handshakesAndControl {
            datagram.withUnsafeBytes { _ = sites.wansB[1].enqueue($0, from: sites.wansA[0]) }
        }
        let sentBefore = sites.wansB[1].datagramsSent
        sites.b[1].receiveFromPeer(now: sites.now)
        #expect(sites.b[1].totalCounters.drops[.wrongLane] == UInt64(handshakesAndControl.count))
        #expect(sites.b[1].totalCounters.keepalivesReceived == 0)
        // Nothing answered: no response, no keepalive reply, no cookie.
        #expect(sites.wansB[1].datagramsSent == sentBefore)
    }

    @Test func rekeysReachEveryLaneAndNoFrameIsLost() throws {
        let sites = try LanedSites(lanesA: 2, lanesB: 2)
        try sites.establish()
        _ = LanedSites.taken(sites.lansA)
        _ = LanedSites.taken(sites.lansB)
        var sent = 0
        var arrived = 0
        // Four minutes: past two rekeys and the first sessions' end.
        for second in 0..<240 {
            sites.lansA[1].inject(Hosts.frame(from: Hosts.a1, to: Hosts.b1, seed: UInt8(truncatingIfNeeded: second)))
            sites.lansB[1].inject(Hosts.frame(from: Hosts.b1, to: Hosts.a1, seed: UInt8(truncatingIfNeeded: second)))
            sent += 2
            sites.run(for: .seconds(1), step: .milliseconds(100))
            arrived += LanedSites.taken(sites.lansA)[1].count + LanedSites.taken(sites.lansB)[1].count
        }
        #expect(sites.a[0].totalCounters.sessionsEstablished + sites.b[0].totalCounters.sessionsEstablished >= 3)
        #expect(arrived == sent)
        #expect(sites.a[1].link.current === sites.a[0].link.current)
    }

    @Test func whatOneLaneLearnsTheOthersKnow() throws {
        // Storm control lets one unknown-unicast frame a second through: a lane that had
        // not heard where B's host is would flood, and lose, nearly all of a one-way stream.
        let sites = try LanedSites(lanesA: 2, lanesB: 1, settings: "flood-rate = 2\nflood-burst = 2")
        try sites.establish()
        // B's host speaks once; it reaches A's lane 0 only.
        sites.lansB[0].inject(Hosts.frame(from: Hosts.b1, to: .broadcast))
        sites.turn()
        sites.turn()
        #expect(LanedSites.taken(sites.lansA).map(\.count) == [1, 0])
        // A one-way stream to it leaves through lane 1, as unicast: none metered, none lost.
        let flooded = sites.a[1].totalCounters.flooded
        for seed in 0..<50 { sites.lansA[1].inject(Hosts.frame(from: Hosts.a1, to: Hosts.b1, seed: UInt8(seed))) }
        sites.turn()
        sites.turn()
        #expect(LanedSites.taken(sites.lansB)[0].count == 50)
        #expect(sites.a[1].totalCounters.flooded == flooded)
        // And A's host, learned local by lane 1, is local to lane 0 as well.
        #expect(sites.a[0].forwarder.table.lookup(Hosts.a1, now: sites.now)?.location == .local)
    }

    @Test func aLaneKeepsTellingTheOthersOfAnAddressItKeepsSeeing() throws {
        let sites = try LanedSites(lanesA: 2, lanesB: 1, settings: "mac-aging-time = 8\nmac-hold-time = 1")
        try sites.establish()
        // For three aging times B's host keeps talking on A's lane 0 alone; lane 1 never sees
        // it itself, and still holds it.
        for _ in 0..<24 {
            sites.lansB[0].inject(Hosts.frame(from: Hosts.b1, to: .broadcast))
            sites.run(for: .seconds(1))
        }
        #expect(sites.a[1].forwarder.table.lookup(Hosts.b1, now: sites.now)?.location == .remote(peer: 0))
    }

    @Test func otherLanesMirrorLaneZerosPeersAcrossAReload() throws {
        let sites = try LanedSites(lanesA: 2, lanesB: 1)
        try sites.establish()
        let old = sites.a[0].peers[0]
        #expect(sites.a[1].peers.map(\.incarnation) == [old.incarnation])
        // The reload: the peer's key is replaced, so slot 0 gets a new peer.
        let newKey = PrivateKey.random().publicKey
        let newPeer = PeerConfiguration(name: "site-c", publicKey: newKey, endpoint: SocketEndpoint("198.18.0.3:51820"))
        let identity = try SiteIdentity(local: sites.a[0].localKey, peer: newKey)
        let changes = sites.a[0].reconfigure(peers: [newPeer], identities: [identity], hub: false)
        #expect(changes.added == ["site-c"] && changes.removed.count == 1)
        sites.a[1].receiveFromPeer(now: sites.now)
        let mirrored = try #require(sites.a[1].peers.first)
        #expect(sites.a[1].peers.count == 1)
        #expect(mirrored.slot == 0 && mirrored.publicKey == newKey && mirrored.incarnation == sites.a[0].peers[0].incarnation)
        #expect(mirrored.incarnation != old.incarnation)
        // The old peer's sessions are not the new peer's, on any lane.
        #expect(mirrored.link.current == nil && sites.a[0].peers[0].link.current == nil)
        #expect(mirrored.address == EndpointAddress(SocketEndpoint("198.18.0.3:51820")!))
    }

    @Test func whatWasLearnedBehindAPeerNeverLandsOnTheNextInItsSlot() throws {
        let sites = try LanedSites(lanesA: 2, lanesB: 1)
        try sites.establish()
        // Lane 1 learns a host behind the peer from a frame of its own, and passes it on;
        // before lane 0 takes it, a reload gives slot 0 to a new peer.
        let host = MACAddress([2, 0, 0, 0, 0xB, 9])
        _ = sites.a[1].forwarder.frameFromPeer(
            Self.broadcastHeader(from: host), peer: 0, incarnation: sites.a[1].peers[0].incarnation, now: sites.now, holdTime: .zero, counters: &sites.a[1].counters
        )
        let newKey = PrivateKey.random().publicKey
        _ = sites.a[0].reconfigure(
            peers: [PeerConfiguration(name: "site-c", publicKey: newKey, endpoint: nil)],
            identities: [try SiteIdentity(local: sites.a[0].localKey, peer: newKey)], hub: false
        )
        sites.a[0].receiveFromPeer(now: sites.now)
        #expect(sites.a[0].forwarder.table.lookup(host, now: sites.now) == nil)
        // Learned behind the peer that holds the slot, it is taken.
        sites.a[1].receiveFromPeer(now: sites.now)
        let other = MACAddress([2, 0, 0, 0, 0xB, 10])
        _ = sites.a[1].forwarder.frameFromPeer(
            Self.broadcastHeader(from: other), peer: 0, incarnation: sites.a[1].peers[0].incarnation,
            now: sites.now, holdTime: .zero, counters: &sites.a[1].counters
        )
        sites.a[0].receiveFromPeer(now: sites.now)
        #expect(sites.a[0].forwarder.table.lookup(other, now: sites.now)?.location == .remote(peer: 0))
    }

    @Test func floodsOfEveryLaneTogetherKeepToOneRate() throws {
        let sites = try LanedSites(lanesA: 2, lanesB: 1, settings: "flood-rate = 1\nflood-burst = 10")
        try sites.establish()
        _ = LanedSites.taken(sites.lansB)
        for lane in 0..<2 {
            for seed in 0..<30 { sites.lansA[lane].inject(Hosts.frame(from: Hosts.a1, to: .broadcast, seed: UInt8(seed))) }
        }
        sites.turn()
        sites.turn()
        // One burst for both lanes: ten broadcasts in all, not ten each.
        #expect(LanedSites.taken(sites.lansB)[0].count == 10)
        let dropped = sites.a.reduce(0) { $0 + $1.totalCounters.drops[.stormBroadcast] }
        #expect(dropped == 50)
    }

    @Test func aReloadedAgingTimeReachesTheSharing() throws {
        let sites = try LanedSites(lanesA: 2, lanesB: 1)
        var configuration = try BackToBackLink.configuration(peer: "198.18.0.2:51820", macTableSize: 64, icmpTooBig: false, settings: "")
        configuration.macAgingTime = .seconds(40)
        for lane in sites.a { lane.applyLiveSettings(configuration) }
        #expect(sites.a.map(\.forwarder.table.shareInterval) == [.seconds(10), .seconds(10)])
        #expect(sites.b[0].forwarder.table.shareInterval == nil)
    }

    @Test func aSessionConfirmedOnlyOnAnotherLaneBecomesCurrent() throws {
        // Every control message is lost, the keepalive that confirms a session among them:
        // the peer's first frames under it cross on lane 1, which tells lane 0.
        let sites = try LanedSites(lanesA: 2, lanesB: 2)
        sites.network.loses = { $0[WireFormat.typeOffset] == WireFormat.MessageType.control.rawValue }
        for _ in 0..<20 {
            sites.lansA[1].inject(Hosts.frame(from: Hosts.a1, to: Hosts.b1))
            sites.lansB[1].inject(Hosts.frame(from: Hosts.b1, to: Hosts.a1))
            sites.run(for: .milliseconds(100))
        }
        let responder = sites.a[0].link.current?.isInitiator == false ? sites.a[0] : sites.b[0]
        let current = try #require(responder.link.current)
        #expect(!current.isInitiator)
        #expect(responder.totalCounters.keepalivesReceived == 0)
        // Frames kept crossing on lane 1, both ways, and lane 0 kept the peer up.
        #expect(LanedSites.taken(sites.lansA)[1].count > 10 && LanedSites.taken(sites.lansB)[1].count > 10)
        #expect(sites.a[0].link.isUp(now: sites.now) && sites.b[0].link.isUp(now: sites.now))
    }

    @Test func aPeerThatMovedIsFollowedWhenOnlyAnotherLaneHearsIt() throws {
        let sites = try LanedSites(lanesA: 2, lanesB: 2)
        try sites.establish()
        // A data message of B's lane 1, caught on the way, arrives at A's lane 1 from a new
        // address (B behind a new NAT mapping).
        var caught: [UInt8]?
        sites.network.loses = { datagram in
            guard datagram[WireFormat.typeOffset] == WireFormat.MessageType.data.rawValue, datagram[WireFormat.counterOffset] == 1 else { return false }
            caught = Array(datagram)
            return true
        }
        sites.lansB[1].inject(Hosts.frame(from: Hosts.b1, to: Hosts.a1))
        sites.turn()
        sites.network.loses = nil
        let moved = EndpointAddress(SocketEndpoint("198.18.0.7:40000")!)
        let natted = sites.network.socket(at: moved)
        try #require(caught).withUnsafeBytes { _ = sites.wansA[1].enqueue($0, from: natted) }
        sites.a[1].receiveFromPeer(now: sites.now)
        sites.a[0].serviceTimers(now: sites.now, wallClock: HandshakeTimestamp(seconds: 1_800_000_000, nanoseconds: 0))
        #expect(sites.a[0].peerAddress == moved)
        sites.a[1].forwardFromLAN(now: sites.now)
        #expect(sites.a[1].peerAddress == moved)
    }

    @Test func theReportAddsUpTheLanesAndTheirMACTables() throws {
        let sites = try LanedSites(lanesA: 2, lanesB: 1)
        try sites.establish()
        let a2 = Hosts.a2
        sites.lansA[0].inject(Hosts.frame(from: Hosts.a1, to: .broadcast))
        sites.lansA[1].inject(Hosts.frame(from: a2, to: .broadcast))
        sites.lansA[1].inject(Hosts.frame(from: a2, to: .broadcast))
        sites.turn()
        let lanes = sites.a.map { StatusSnapshot(path: $0, now: sites.now, includingMACTable: true) }
        let report = StatusSnapshot.combining(lanes, includingMACTable: true)
        #expect(report.lanes.map(\.framesFromLAN) == [1, 2])
        #expect(report.counters.framesFromLAN == 3)
        #expect(report.peers[0].counters.framesToPeer == lanes[0].peers[0].counters.framesToPeer + lanes[1].peers[0].counters.framesToPeer)
        #expect(report.macTable.entries == 2)
        #expect(report.table?.lookup(Hosts.a1, now: sites.now) != nil && report.table?.lookup(a2, now: sites.now) != nil)
        #expect(StatusSnapshot.combining(lanes, includingMACTable: false).table == nil)
    }
}
