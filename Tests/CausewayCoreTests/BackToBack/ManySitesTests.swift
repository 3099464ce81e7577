@testable import CausewayCore
import Testing

/// Several sites' data paths on one memory network, each peering with the sites `peering`
/// names: a full mesh, or spokes around a hub.
final class ManySites {
    let network = MemoryNetwork()
    let keys: [PrivateKey]
    let lans: [MemoryFrameDevice]
    let sockets: [MemorySocket]
    private(set) var paths: [DataPath] = []
    private(set) var now = Moment(nanoseconds: 5_000_000_000)
    private var wallSeconds: UInt64 = 1_700_000_000

    static func address(_ site: Int) -> EndpointAddress { EndpointAddress(SocketEndpoint("198.18.0.\(site + 1):51820")!) }
    static func name(_ site: Int) -> String { "site-\(Character(UnicodeScalar(UInt8(97 + site))))" }

    /// `peering[i]` lists the sites site i peers with; `hubs` relay between their peers;
    /// `settings[i]` are further top-level lines of site i's configuration.
    init(sites: Int, peering: [[Int]], hubs: Set<Int> = [], settings: [Int: String] = [:]) throws {
        keys = (0..<sites).map { _ in PrivateKey.random() }
        lans = (0..<sites).map { _ in MemoryFrameDevice() }
        let network = network
        sockets = (0..<sites).map { network.socket(at: Self.address($0)) }
        for site in 0..<sites {
            let configuration = try Self.configuration(site: site, peers: peering[site], keys: keys, hubs: hubs, settings: settings[site] ?? "")
            let identities = peering[site].map { try! SiteIdentity(local: keys[site], peer: keys[$0].publicKey) }
            paths.append(DataPath(configuration: configuration, identities: identities, lan: lans[site], wan: sockets[site]))
        }
    }

    static func configuration(site: Int, peers: [Int], keys: [PrivateKey], hubs: Set<Int>, settings: String = "") throws -> Configuration {
        let tables = peers.map { peer in
            """
            [[peer]]
            name = "\(name(peer))"
            public-key = "\(keys[peer].publicKey.base64)"
            endpoint = "198.18.0.\(peer + 1):51820"
            hub = \(hubs.contains(peer))
            """
        }
        return try Configuration(toml: """
            bridge = "br0"
            lan-interface = "eth1"
            tap = "cw0"
            listen = "198.18.0.\(site + 1):51820"
            private-key-file = "site.key"
            hub = \(hubs.contains(site))
            \(settings)

            \(tables.joined(separator: "\n\n"))
            """, file: "/test/site-\(site).toml")
    }

    func turn() {
        for path in paths {
            // As each site's thread turns: the timers only when `tend` finds them due.
            _ = path.tend(now: now, wallClock: { HandshakeTimestamp(seconds: wallSeconds, nanoseconds: 0) }, report: { _, _ in })
            path.receiveFromPeer(now: now)
            path.forwardFromLAN(now: now)
        }
    }

    func run(for duration: Duration) {
        let end = now + duration
        while now < end {
            turn()
            now = now + .milliseconds(10)
            wallSeconds += 1
        }
        turn()
    }

    /// Puts `frame` on a site's LAN, turns everyone a few times, and returns what each LAN got.
    func carry(_ frame: [UInt8], from site: Int) -> [[MemoryFrameDevice.Written]] {
        lans[site].inject(frame)
        for _ in 0..<4 { turn() }
        return lans.map { $0.takeWritten() }
    }

    func allPeersUp() -> Bool {
        paths.allSatisfy { path in path.peers.allSatisfy { $0.link.isUp(now: now) } }
    }
}

enum ManyHosts {
    static func host(_ site: Int, _ number: UInt8 = 1) -> MACAddress { MACAddress([0x02, 0, 0, 0, UInt8(0xA + site), number]) }
}

@Suite struct ManySitesTests {
    static let mesh = [[1, 2], [0, 2], [0, 1]]
    /// Site 0 the hub; sites 1, 2 and 3 its spokes, which peer with it alone.
    static let star = [[1, 2, 3], [0], [0], [0]]

    @Test func aBroadcastInAMeshArrivesOnceAtEverySiteAndNeverComesBack() throws {
        let sites = try ManySites(sites: 3, peering: Self.mesh)
        sites.run(for: .seconds(2))
        #expect(sites.allPeersUp())
        let frame = Hosts.frame(from: ManyHosts.host(0), to: .broadcast)
        let arrived = sites.carry(frame, from: 0)
        #expect(arrived[1].map(\.frame) == [frame])
        #expect(arrived[2].map(\.frame) == [frame])
        #expect(arrived[0].isEmpty, "split horizon: nothing comes back to the sender")
        sites.run(for: .milliseconds(500))
        #expect(sites.lans.allSatisfy { $0.takeWritten().isEmpty }, "nothing loops")
        #expect(sites.paths[0].totalCounters.flooded == 2, "one copy to each peer")
    }

    @Test func aLargeTCPFrameFloodedToTwoPeersReachesEachWhole() throws {
        let sites = try ManySites(sites: 3, peering: Self.mesh)
        sites.run(for: .seconds(2))
        // Its destination is known nowhere: cut once for each peer, from the same frame.
        let segments = (0..<12).map { SegmentMaker().frame($0, payload: payload(1000, UInt8($0)), flags: $0 == 11 ? 0x18 : 0x10, sequence: 5_000 + UInt32($0 * 1000)) }
        let large = try #require(coalesce(segments).first)
        sites.lans[0].inject(large.frame, header: large.header)
        for _ in 0..<4 { sites.turn() }
        for site in [1, 2] {
            let written = sites.lans[site].takeWritten()
            let arrived = try written.flatMap { try TCPSegmentationTests().segments(of: Written(frame: $0.frame, header: $0.header, frames: 0, bytes: 0)) }
            #expect(arrived == segments, "site \(site)")
        }
    }

    @Test func unicastCrossesOnlyTheLinkBetweenItsTwoSites() throws {
        let sites = try ManySites(sites: 3, peering: Self.mesh)
        sites.run(for: .seconds(2))
        // Each host speaks once, so every site learns where it is.
        for site in 0..<3 { _ = sites.carry(Hosts.frame(from: ManyHosts.host(site), to: .broadcast), from: site) }
        let receivedByC = sites.paths[2].totalCounters.framesFromPeer
        let frame = Hosts.frame(from: ManyHosts.host(0), to: ManyHosts.host(1), length: 400)
        let arrived = sites.carry(frame, from: 0)
        #expect(arrived[1].map(\.frame) == [frame])
        #expect(arrived[2].isEmpty)
        #expect(sites.paths[2].totalCounters.framesFromPeer == receivedByC, "site C's WAN saw none of it")
        let toB = try #require(sites.paths[0].peers.first { $0.name == ManySites.name(1) })
        #expect(sites.paths[0].forwarder.table.lookup(ManyHosts.host(1), now: sites.now)?.location == .remote(peer: toB.slot))
    }

    @Test func aHubRelaysBetweenItsSpokesExactlyOnce() throws {
        let sites = try ManySites(sites: 4, peering: Self.star, hubs: [0])
        sites.run(for: .seconds(2))
        #expect(sites.allPeersUp())
        let broadcast = Hosts.frame(from: ManyHosts.host(1), to: .broadcast)
        let arrived = sites.carry(broadcast, from: 1)
        #expect(arrived[0].map(\.frame) == [broadcast], "the hub's own LAN")
        #expect(arrived[2].map(\.frame) == [broadcast] && arrived[3].map(\.frame) == [broadcast], "every other spoke, once")
        #expect(arrived[1].isEmpty, "never back to the spoke it came from")
        sites.run(for: .milliseconds(500))
        #expect(sites.lans.allSatisfy { $0.takeWritten().isEmpty }, "nothing loops")

        // Spoke 2 answers spoke 1: relayed to spoke 1 alone, not to the hub's LAN.
        _ = sites.carry(Hosts.frame(from: ManyHosts.host(2), to: .broadcast), from: 2)
        let unicast = Hosts.frame(from: ManyHosts.host(2), to: ManyHosts.host(1), length: 600)
        let relayed = sites.carry(unicast, from: 2)
        #expect(relayed[1].map(\.frame) == [unicast])
        #expect(relayed[0].isEmpty && relayed[3].isEmpty)

        // Link-local control frames (spanning tree's address), which no meter counts, reach
        // the hub's LAN and stop there, as a bridge never forwards them between ports.
        let bpdu = Hosts.frame(from: ManyHosts.host(1), to: MACAddress([0x01, 0x80, 0xC2, 0, 0, 0]))
        let control = sites.carry(bpdu, from: 1)
        #expect(control[0].map(\.frame) == [bpdu])
        #expect(control[2].isEmpty && control[3].isEmpty)
    }

    @Test func aHubSplitsWhatItRelaysRatherThanAnswerTooBigOnItsOwnLAN() throws {
        let sites = try ManySites(sites: 3, peering: [[1, 2], [0], [0]], hubs: [0], settings: [0: "icmp-too-big = true"])
        sites.network.pathMTU = 1400
        sites.run(for: .seconds(3))
        #expect(sites.allPeersUp())
        for site in 1...2 { _ = sites.carry(Hosts.frame(from: ManyHosts.host(site), to: .broadcast), from: site) }
        // An IPv4 packet with DF, too large for the hub's path to spoke 2 once put back together.
        let big = ManyHosts.host(2).bytes + ManyHosts.host(1).bytes + [0x08, 0x00]
            + Frames.ipv4(protocol: 17, Array(repeating: 7, count: 1450))
        let arrived = sites.carry(big, from: 1)
        #expect(arrived[2].map(\.frame) == [big], "split by the hub, whole at spoke 2")
        #expect(arrived[0].isEmpty, "no ICMP on the hub's LAN, where the sender is not")
    }

    @Test func aHostThatMovesToAnotherSiteIsLearnedThere() throws {
        let sites = try ManySites(sites: 3, peering: Self.mesh)
        sites.run(for: .seconds(2))
        let roamer = ManyHosts.host(1, 9)
        _ = sites.carry(Hosts.frame(from: roamer, to: .broadcast), from: 1)
        let atA = sites.paths[0]
        let slotOf = { (site: Int) in atA.peers.first { $0.name == ManySites.name(site) }!.slot }
        #expect(atA.forwarder.table.lookup(roamer, now: sites.now)?.location == .remote(peer: slotOf(1)))
        let moves = atA.totalCounters.macMoves
        sites.run(for: .seconds(1))
        _ = sites.carry(Hosts.frame(from: roamer, to: .broadcast), from: 2)
        #expect(atA.forwarder.table.lookup(roamer, now: sites.now)?.location == .remote(peer: slotOf(2)))
        #expect(atA.totalCounters.macMoves == moves + 1)
    }

    @Test func reconfiguringAddsAndRemovesPeersWithoutTouchingTheOthers() throws {
        // A and B peer; C is known to nobody yet.
        let sites = try ManySites(sites: 3, peering: [[1], [0], [0, 1]])
        sites.run(for: .seconds(2))
        let a = sites.paths[0], b = sites.paths[1]
        #expect(a.peers.count == 1 && a.peers[0].link.isUp(now: sites.now))
        let bAtA = a.peers[0]
        let sessionsWithA = b.peers[0].counters.sessionsEstablished

        // A and B both take C in; then A drops B.
        let withC = try ManySites.configuration(site: 0, peers: [1, 2], keys: sites.keys, hubs: [])
        let changes = a.reconfigure(
            peers: withC.peers, identities: [1, 2].map { try! SiteIdentity(local: sites.keys[0], peer: sites.keys[$0].publicKey) }, hub: false
        )
        #expect(changes == DataPath.PeerChanges(added: [ManySites.name(2)], removed: [], moved: []))
        let bWithC = try ManySites.configuration(site: 1, peers: [0, 2], keys: sites.keys, hubs: [])
        _ = b.reconfigure(peers: bWithC.peers, identities: [0, 2].map { try! SiteIdentity(local: sites.keys[1], peer: sites.keys[$0].publicKey) }, hub: false)
        sites.run(for: .seconds(2))
        #expect(sites.allPeersUp())
        #expect(a.peers[0] === bAtA, "the peer that stayed is the same, sessions and all")
        // C and B may both initiate at once, and then both handshakes complete.
        let sessionsWithC = try #require(b.peer(withKey: sites.keys[2].publicKey)).counters.sessionsEstablished
        #expect(b.peers[0].counters.sessionsEstablished == sessionsWithA && (1...2).contains(sessionsWithC), "B made a new session with C and kept A's")

        _ = sites.carry(Hosts.frame(from: ManyHosts.host(1), to: .broadcast), from: 1)
        #expect(a.forwarder.table.lookup(ManyHosts.host(1), now: sites.now) != nil)
        let onlyC = try ManySites.configuration(site: 0, peers: [2], keys: sites.keys, hubs: [])
        let removal = a.reconfigure(peers: onlyC.peers, identities: [try SiteIdentity(local: sites.keys[0], peer: sites.keys[2].publicKey)], hub: false)
        #expect(removal.removed == [ManySites.name(1)])
        #expect(a.peers.map(\.name) == [ManySites.name(2)])
        #expect(a.forwarder.table.lookup(ManyHosts.host(1), now: sites.now) == nil, "what was learned from B went with it")
        let frame = Hosts.frame(from: ManyHosts.host(0), to: .broadcast)
        let arrived = sites.carry(frame, from: 0)
        #expect(arrived[2].map(\.frame) == [frame] && arrived[1].isEmpty)
    }
}
