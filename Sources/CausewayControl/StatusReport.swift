import CausewayCore

/// The answer to `status`: the daemon, its devices, its peers and every counter.
public struct StatusReport: Codable, Equatable, Sendable {
    /// One of the three devices the daemon joins, as the kernel sees it now.
    public struct Device: Codable, Equatable, Sendable {
        public enum Role: String, Codable, Sendable { case bridge, tap, lan }
        public enum State: String, Codable, Sendable { case up, down, missing }

        public var role: Role
        public var name: String
        public var state: State

        public init(role: Role, name: String, state: State) {
            self.role = role
            self.name = name
            self.state = state
        }
    }

    public var version: String
    public var uptimeSeconds: Double
    public var configuration: String
    /// The configuration's name without `.toml`, as metrics label it and `causewayctl -i` names it.
    public var instance: String
    /// This site's public key, base64: what the peers' configurations name. Nil only from a
    /// daemon older than the field.
    public var publicKey: String?
    /// The address and port the daemon receives datagrams on.
    public var listen: String?
    public var networkID: UInt32
    public var tapMAC: String
    public var devices: [Device]
    public var peers: [StatusSnapshot.Peer]
    /// Whether this gateway relays frames between its peers.
    public var hub: Bool
    public var macTable: StatusSnapshot.MACTableSummary
    public var reassembly: StatusSnapshot.ReassemblySummary
    /// Each data-plane thread's frames; nil from a daemon older than the field.
    public var lanes: [StatusSnapshot.LaneSummary]?
    public var counters: Counters

    public init(
        snapshot: StatusSnapshot, configuration: Configuration, configurationPath: String,
        tapAddress: MACAddress, uptime: Duration, devices: [Device], siteKey: PublicKey? = nil
    ) {
        version = CausewayVersion.current
        uptimeSeconds = uptime.secondsValue
        self.configuration = configurationPath
        instance = Configuration.instanceName(forConfigurationFile: configurationPath)
        publicKey = siteKey?.base64
        listen = configuration.listen.description
        networkID = configuration.networkID.rawValue
        tapMAC = tapAddress.description
        self.devices = devices
        peers = snapshot.peers
        hub = snapshot.hub
        macTable = snapshot.macTable
        reassembly = snapshot.reassembly
        lanes = snapshot.lanes
        counters = snapshot.counters
    }
}
