import CausewayCore

/// Two sites' data paths back to back in memory, with a session up: what the datagram and
/// frame fuzz targets drive, so that their inputs reach the code behind decryption. Kept
/// across inputs (a handshake per input would cost more than the input), and made anew
/// once its clock nears the sessions' rekey age.
public final class FuzzLink {
    public static let addressA = EndpointAddress(SocketEndpoint("198.18.0.1:51820")!)
    public static let addressB = EndpointAddress(SocketEndpoint("198.18.0.2:51820")!)
    /// Clock time a link serves before it is replaced: below the 120 s rekey age, so the
    /// session the targets seal with stays the one the far side holds.
    static let lifetime = Duration.seconds(60)

    /// Parsed once: TOMLKit leaks a little of every parse (Tests/Fuzz/lsan-suppressions.txt).
    public static let configurationA = configuration(peer: "198.18.0.2:51820")
    static let configurationB = configuration(peer: "198.18.0.1:51820")

    public let lanA = FuzzFrameDevice(), lanB = FuzzFrameDevice()
    public let wanA = FuzzSocket(address: addressA), wanB = FuzzSocket(address: addressB)
    public let a: DataPath
    public let b: DataPath
    public private(set) var now = Moment(nanoseconds: 5_000_000_000)
    private var establishedAt = Moment.zero
    private var wallNanoseconds: UInt64 = 1_700_000_000 * 1_000_000_000

    public init() {
        let keyA = PrivateKey.random(), keyB = PrivateKey.random()
        a = DataPath(configuration: Self.configurationA, identity: try! SiteIdentity(local: keyA, peer: keyB.publicKey),
                     lan: lanA, wan: wanA)
        b = DataPath(configuration: Self.configurationB,
                     identity: try! SiteIdentity(local: keyB, peer: keyA.publicKey), lan: lanB, wan: wanB)
        wanA.peer = wanB
        wanB.peer = wanA
        // Two seconds of turns: the handshake, then the path MTU search settles.
        for _ in 0..<200 {
            turn(a)
            turn(b)
            advance(by: .milliseconds(10))
        }
        precondition(a.link.isUp(now: now) && b.link.isUp(now: now), "the fuzz link did not come up")
        establishedAt = now
    }

    /// True once the link has served its time and a new one should take its place.
    public var isWornOut: Bool { now.since(establishedAt) >= Self.lifetime }

    /// The session A seals with, which B opens.
    public var sendingSession: Session { a.link.sendingSession(now: now)! }

    public func turn(_ side: DataPath) {
        side.serviceTimers(now: now, wallClock: wallClock)
        side.receiveFromPeer(now: now)
        side.forwardFromLAN(now: now)
    }

    public func advance(by duration: Duration) {
        now = now + duration
        wallNanoseconds += UInt64(duration.components.seconds) * 1_000_000_000 + UInt64(duration.components.attoseconds / 1_000_000_000)
    }

    /// Forgets whatever one input left queued on either side.
    public func reset() {
        for lan in [lanA, lanB] { lan.reset() }
        for wan in [wanA, wanB] { wan.reset() }
    }

    private var wallClock: HandshakeTimestamp {
        HandshakeTimestamp(seconds: wallNanoseconds / 1_000_000_000, nanoseconds: UInt32(wallNanoseconds % 1_000_000_000))
    }

    /// Both sites answer too-big frames, so TooBigReply is reached.
    private static func configuration(peer: String) -> Configuration {
        try! Configuration(toml: """
            bridge = "br0"
            lan-interface = "eth1"
            tap = "cw0"
            listen = "198.18.0.9:51820"
            private-key-file = "site.key"
            icmp-too-big = true

            [peer]
            public-key = "\(PrivateKey.random().publicKey.base64)"
            endpoint = "\(peer)"
            """, file: "/fuzz/site.toml")
    }
}

extension DataPath {
    /// The one peer of the fuzz link's two sites.
    var link: PeerLink { peers[0].link }
}
