/// One site's configuration: what `site.toml` says, validated.
public struct Configuration: Sendable, Equatable {
    /// The Linux bridge that joins the LAN NIC and the TAP; adopted when it exists.
    public var bridge: String
    /// The LAN-facing NIC, enslaved into the bridge.
    public var lanInterface: String
    /// The TAP device causewayd creates.
    public var tap: String
    public var listen: SocketEndpoint
    /// The peer gateways (`[[peer]]` tables), at least one; a peer is its public key.
    public var peers: [PeerConfiguration]
    /// Whether this gateway forwards frames between its peers (`hub`): spokes that peer only
    /// with it reach each other through it. Without it a frame from a peer never goes to
    /// another peer (split horizon), as a full mesh needs.
    public var hub: Bool
    /// This site's private key file, absolute (a relative path is taken from the config's folder).
    public var privateKeyFile: String
    /// The optional pre-shared key file, mixed into every handshake as an extra layer.
    public var presharedKeyFile: String?
    public var networkID: NetworkID
    public var macAgingTime: Duration
    public var macTableSize: Int
    public var keepaliveInterval: Duration
    public var logLevel: LogLevel
    /// Whether the LAN NIC's addresses, and the routes through them, move to the bridge while
    /// causewayd runs. Without it a NIC with addresses is refused: enslaving it would cut the
    /// gateway off its own LAN.
    public var migrateAddresses: Bool
    /// Whether a frame too large for the path is answered, as a router would, with ICMP
    /// "fragmentation needed" (IPv4 with DF) or "packet too big" (IPv6) instead of being split.
    public var icmpTooBig: Bool
    /// Where `causewayctl` reaches the daemon: a Unix socket path, absolute.
    public var controlSocket: String
    /// Storm control: broadcast, multicast and unknown-unicast frames per second, each class
    /// metered on its own, towards the peer and from it; 0 turns it off.
    public var floodRate: Int
    /// How many such frames may pass at once before the rate applies.
    public var floodBurst: Int
    /// How long after an address was last seen on this LAN a frame from the peer claiming it
    /// is a conflict, not a move.
    public var macHoldTime: Duration
    /// How many data-plane threads (lanes) move frames, each with its own TAP queue and
    /// socket; nil ("auto") leaves it to the machine (`laneCount(cores:)`).
    public var dataPlaneThreads: Int?
    /// The one transport cipher handshakes may agree on; nil ("auto") accepts both and
    /// prefers AES-256-GCM where both gateways have AES instructions (CipherOffer).
    public var cipher: CipherSuite?

    /// The lanes this configuration runs on a machine with `cores` processors.
    public func laneCount(cores: Int) -> Int {
        dataPlaneThreads ?? Lane.suggestedCount(cores: cores)
    }

    /// At most this many peers: a session index carries its peer's slot in its low bits.
    public static let maximumPeers = PeerSlots.capacity

    public enum LogLevel: String, CaseIterable, Sendable {
        case trace, debug, info, notice, warning, error, critical
    }

    public static let defaultNetworkID = NetworkID(1)!
    public static let defaultMACAgingTime = Duration.seconds(300)
    public static let defaultMACTableSize = 4096
    public static let defaultKeepaliveInterval = Duration.seconds(5)
    /// Far above what ARP, neighbour discovery and mDNS of a few hundred hosts send (a few
    /// frames per second each), far below a storm (tens of thousands).
    public static let defaultFloodRate = 2000
    public static let defaultFloodBurst = 4000
    public static let defaultMACHoldTime = Duration.seconds(5)
    /// Daemons put their control sockets here unless told otherwise; causewayctl looks here.
    public static let controlSocketDirectory = "/run/causeway"
    /// The kernel's limit for a Unix socket path (sun_path, 108 bytes with its NUL).
    public static let maximumSocketPathLength = 107

    /// `/run/causeway/NAME.sock` for a configuration file `…/NAME.toml`.
    public static func defaultControlSocket(forConfigurationFile file: String) -> String {
        "\(controlSocketDirectory)/\(instanceName(forConfigurationFile: file)).sock"
    }

    /// `NAME` for a configuration file `…/NAME.toml`: the instance, as in `causeway@NAME`.
    public static func instanceName(forConfigurationFile file: String) -> String {
        var name = file.split(separator: "/").last.map(String.init) ?? file
        if name.hasSuffix(".toml") { name.removeLast(5) }
        return name
    }
}

/// One `[[peer]]` table: another site's gateway.
public struct PeerConfiguration: Sendable, Equatable {
    /// For humans: logs, `causewayctl peers`, metric labels. Letters, digits, '.', '_', '-'.
    public var name: String
    /// Who the peer is: the handshake proves it holds the matching private key.
    public var publicKey: PublicKey
    /// Where the peer is reached; nil for a peer that only calls in (one behind NAT): it is
    /// reached wherever its authenticated messages come from.
    public var endpoint: SocketEndpoint?
    /// The peer says it is a hub (its `hub = true`): this gateway then reaches the peer's
    /// other spokes through it, and refuses combinations that would loop or duplicate.
    public var isHub: Bool

    public init(name: String, publicKey: PublicKey, endpoint: SocketEndpoint?, isHub: Bool = false) {
        self.name = name
        self.publicKey = publicKey
        self.endpoint = endpoint
        self.isHub = isHub
    }
}

/// A configuration problem, naming the file, the key and what is wrong with its value.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public let file: String
    public let key: String?
    public let problem: String

    public init(file: String, key: String?, problem: String) {
        self.file = file
        self.key = key
        self.problem = problem
    }

    public var description: String {
        if let key { "\(file): key '\(key)': \(problem)" } else { "\(file): \(problem)" }
    }
}
