import CausewayCore

extension StatusSnapshot {
    /// One row of the MAC table as `macs` and `explain` report it.
    public struct MACEntry: Codable, Sendable, Equatable {
        public var mac: String
        /// "local", or "peer" for an address behind the peer gateway in slot `peer`.
        public var location: String
        /// The slot of the peer the address is behind; nil when local.
        public var peer: Int?
        /// That peer's name, as the configuration gives it.
        public var peerName: String?
        /// That peer's address, as the daemon reaches it now.
        public var peerEndpoint: String?
        public var vlan: UInt16?
        /// Seconds since the address was learned at its current location.
        public var ageSeconds: Double
        public var expiresInSeconds: Double
        /// The bridge port the kernel's forwarding database has the address on (the LAN NIC,
        /// another port, or the TAP for one behind a peer); nil when the bridge has no entry.
        public var port: String?
        /// IPv4 and IPv6 addresses the gateway's neighbour table (ARP, ND) gives this MAC.
        public var ipAddresses: [String]?
        /// Which of this gateway's own devices has the address ("tap cw0", "bridge br0",
        /// "lan eth1"); nil for every other.
        public var thisGateway: String?

        public init(
            mac: String, location: MACLocation, peerName: String? = nil, peerEndpoint: String? = nil, vlan: UInt16?,
            ageSeconds: Double, expiresInSeconds: Double
        ) {
            self.mac = mac
            switch location {
            case .local:
                self.location = "local"
            case .remote(let peer):
                self.location = "peer"
                self.peer = peer
                self.peerName = peerName
                self.peerEndpoint = peerEndpoint
            }
            self.vlan = vlan
            self.ageSeconds = ageSeconds
            self.expiresInSeconds = expiresInSeconds
        }

        /// Where the row says the address lives, as the forwarder knows locations.
        public var macLocation: MACLocation { peer.map { .remote(peer: $0) } ?? .local }
    }

    /// The table's live rows ordered by address, with what the kernel knows of each.
    public func macEntries(_ surroundings: Surroundings) -> [MACEntry] {
        macEntries().map { surroundings.annotated($0) }
    }

    /// The table's live rows ordered by address. Sorted and formatted here, on the control
    /// side and only for the requests that show rows, never on the data-plane thread. Empty
    /// when the snapshot was taken without the table.
    public func macEntries() -> [MACEntry] {
        assert(table != nil, "ask the data plane for the MAC table with the snapshot")
        guard let table else { return [] }
        return table.liveEntries(now: takenAt)
            .sorted { $0.address < $1.address }
            .map { macEntry($0.address, $0.entry, in: table) }
    }

    /// The row for `address`, or nil when the table has no live entry for it.
    public func macEntry(for address: MACAddress) -> MACEntry? {
        assert(table != nil, "ask the data plane for the MAC table with the snapshot")
        guard let table, let entry = table.lookup(address, now: takenAt) else { return nil }
        return macEntry(address, entry, in: table)
    }

    private func macEntry(_ address: MACAddress, _ entry: MACTable.Entry, in table: MACTable) -> MACEntry {
        var peer: Peer?
        if case .remote(let slot) = entry.location { peer = self.peer(inSlot: slot) }
        return MACEntry(
            mac: address.description, location: entry.location, peerName: peer?.name, peerEndpoint: peer?.endpoint, vlan: entry.vlan,
            ageSeconds: takenAt.since(entry.learnedAt).secondsValue,
            expiresInSeconds: table.expiry(of: entry).since(takenAt).secondsValue
        )
    }
}

/// What the kernel knows around the MAC table, read by the control thread when a client asks
/// (`macs`, `explain`): the bridge port of each address, its IP addresses, the gateway's own.
public struct Surroundings: Sendable, Equatable {
    public var ports: [MACAddress: String]
    public var ipAddresses: [MACAddress: [String]]
    public var own: [MACAddress: String]

    public init(ports: [MACAddress: String] = [:], ipAddresses: [MACAddress: [String]] = [:], own: [MACAddress: String] = [:]) {
        self.ports = ports
        self.ipAddresses = ipAddresses
        self.own = own
    }

    /// The row with its port, IP addresses and ownership filled in where known.
    public func annotated(_ entry: StatusSnapshot.MACEntry) -> StatusSnapshot.MACEntry {
        guard let mac = MACAddress(entry.mac) else { return entry }
        var entry = entry
        entry.port = ports[mac]
        entry.ipAddresses = ipAddresses[mac].map(Self.ordered)
        entry.thisGateway = own[mac]
        return entry
    }

    /// The MAC that the neighbour table gives `ip`; nil when it has none.
    public func mac(forIP ip: String) -> MACAddress? {
        ipAddresses.first { $0.value.contains(ip) }?.key
    }

    /// IPv4 before IPv6, each in text order.
    static func ordered(_ addresses: [String]) -> [String] {
        addresses.sorted { ($0.contains(":") ? 1 : 0, $0) < ($1.contains(":") ? 1 : 0, $1) }
    }
}
