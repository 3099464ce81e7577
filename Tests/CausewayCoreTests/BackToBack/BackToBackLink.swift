@testable import CausewayCore

/// Two sites' data paths wired back to back in memory, on a clock the test moves: the whole
/// link (handshake, sessions, switching, sealing, fragmentation, path MTU, coalescing)
/// without a kernel, in milliseconds. Like wireguard-go's genTestPair with tuntest and
/// bindtest.
final class BackToBackLink {
    static let addressA = EndpointAddress(SocketEndpoint("198.18.0.1:51820")!)
    static let addressB = EndpointAddress(SocketEndpoint("198.18.0.2:51820")!)

    let network = MemoryNetwork()
    let lanA = MemoryFrameDevice()
    let lanB = MemoryFrameDevice()
    let a: DataPath
    let b: DataPath
    private(set) var now = Moment(nanoseconds: 5_000_000_000)
    /// Nanoseconds since 1970 on the wall clock, which handshake timestamps come from.
    private var wallNanoseconds: UInt64 = 1_700_000_000 * 1_000_000_000
    private var wallClock: HandshakeTimestamp {
        HandshakeTimestamp(seconds: wallNanoseconds / 1_000_000_000, nanoseconds: UInt32(wallNanoseconds % 1_000_000_000))
    }
    /// What each side's timers reported, as its thread would log it, until a test takes it.
    private var reportedByA: [LinkEvents] = []
    private var reportedByB: [LinkEvents] = []

    /// `settingsA` and `settingsB` are further top-level TOML lines for one side each.
    /// `sites` gives each side its identity; a test of keys that do not match passes its own.
    /// `lanBAcceptsUDPSegmentation` false makes B's LAN a TAP on a kernel before 6.2.
    init(
        macTableSize: Int = 64, icmpTooBig: Bool = false, settingsA: String = "", settingsB: String = "",
        sites: (siteA: SiteIdentity, siteB: SiteIdentity)? = nil, lanBAcceptsUDPSegmentation: Bool = true
    ) throws {
        lanB.acceptsUDPSegmentation = lanBAcceptsUDPSegmentation
        let pair = TwoSites()
        let sites = sites ?? (pair.siteA, pair.siteB)
        let wanA = network.socket(at: Self.addressA)
        let wanB = network.socket(at: Self.addressB)
        a = DataPath(configuration: try Self.configuration(peer: "198.18.0.2:51820", macTableSize: macTableSize, icmpTooBig: icmpTooBig, settings: settingsA),
                     identity: sites.siteA, lan: lanA, wan: wanA)
        b = DataPath(configuration: try Self.configuration(peer: "198.18.0.1:51820", macTableSize: macTableSize, icmpTooBig: icmpTooBig, settings: settingsB),
                     identity: sites.siteB, lan: lanB, wan: wanB)
    }

    static func configuration(peer: String, macTableSize: Int, icmpTooBig: Bool, settings: String) throws -> Configuration {
        try Configuration(toml: """
            bridge = "br0"
            lan-interface = "eth1"
            tap = "cw0"
            listen = "198.18.0.9:51820"
            private-key-file = "site.key"
            mac-table-size = \(macTableSize)
            icmp-too-big = \(icmpTooBig)
            \(settings)

            [peer]
            public-key = "\(PrivateKey.random().publicKey.base64)"
            endpoint = "\(peer)"
            """, file: "/test/site.toml")
    }

    /// Has A learn the host SegmentMaker and DatagramMaker send to (02:00:00:00:00:02) behind
    /// B, from a broadcast of it on B's LAN, and forgets what A's LAN got.
    func learnTheSegmentsHostBehindB() {
        lanB.inject(Hosts.frame(from: MACAddress([2, 0, 0, 0, 0, 2]), to: .broadcast))
        turn()
        turn()
        _ = lanA.takeWritten()
    }

    /// One turn of each data plane, as its thread makes when everything is ready.
    func turn() {
        turn(a)
        turn(b)
    }

    /// As the side's thread turns: the timers only when `tend` finds them due.
    func turn(_ side: DataPath) {
        tend(side)
        side.receiveFromPeer(now: now)
        side.forwardFromLAN(now: now)
    }

    /// What the side's thread does between two turns; returns when it would wake next.
    @discardableResult
    func tend(_ side: DataPath) -> Moment {
        side.tend(now: now, wallClock: { wallClock }, report: { _, events in
            if side === a { reportedByA.append(events) } else { reportedByB.append(events) }
        })
    }

    /// Every event `side` reported between its turns since the last call, oldest first: what
    /// its thread has logged by the time it waits again after its last turn.
    func events(of side: DataPath) -> [LinkEvents] {
        tend(side)
        defer { if side === a { reportedByA = [] } else { reportedByB = [] } }
        return side === a ? reportedByA : reportedByB
    }

    /// Turns, moving the clock by `step` after each, for `duration`.
    func run(for duration: Duration, step: Duration = .milliseconds(10)) {
        let end = now + duration
        while now < end {
            turn()
            advance(by: step)
        }
        turn()
    }

    /// Puts `frame` on one site's LAN and turns both sides twice, long enough for it to cross;
    /// returns what the other site's LAN got.
    func carry(_ frame: [UInt8], header: [UInt8]? = nil, from lan: MemoryFrameDevice) -> [MemoryFrameDevice.Written] {
        lan.inject(frame, header: header)
        turn()
        turn()
        return (lan === lanA ? lanB : lanA).takeWritten()
    }

    func advance(by duration: Duration) {
        now = now + duration
        wallNanoseconds += UInt64(duration.components.seconds) * 1_000_000_000 + UInt64(duration.components.attoseconds / 1_000_000_000)
    }

    /// Runs until both sides have a session and the path MTU has settled.
    func establish() throws {
        run(for: .seconds(2))
        guard a.link.isUp(now: now), b.link.isUp(now: now), !a.pathMTU.isSearching, !b.pathMTU.isSearching else {
            throw LinkNotUp()
        }
    }

    struct LinkNotUp: Error {}
}

/// Ethernet frames as hosts on the two LANs send them.
enum Hosts {
    static let a1 = MACAddress([0x02, 0, 0, 0, 0xA, 1])
    static let a2 = MACAddress([0x02, 0, 0, 0, 0xA, 2])
    static let b1 = MACAddress([0x02, 0, 0, 0, 0xB, 1])

    /// A frame of an experimental EtherType (IEEE's 0x88B5), `length` bytes in all, its payload
    /// numbered from `seed`: neither IP nor TCP, so nothing on the way rewrites it.
    static func frame(from source: MACAddress, to destination: MACAddress, length: Int = 100, seed: UInt8 = 0) -> [UInt8] {
        destination.bytes + source.bytes + [0x88, 0xB5] + payload(length - 14, seed)
    }
}

extension DataPath {
    /// The one peer of a two-site data path, as the tests of a link between two sites see it.
    var link: PeerLink { peers[0].link }
    var pathMTU: PathMTUDiscovery { peers[0].pathMTU }
    var peerAddress: EndpointAddress { peers[0].address! }
}
