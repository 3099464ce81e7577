/// What the daemon reports about itself: a copy taken by the data plane on request, so that
/// reading it never holds up a frame.
public struct StatusSnapshot: Codable, Sendable, Equatable {
    public struct Peer: Codable, Sendable, Equatable {
        public var endpoint: String
        public var up: Bool
        public var secondsSinceLastReceive: Double?
        public var roundTripMilliseconds: Double?
        public var sessionAgeSeconds: Double?
    }

    public struct MACEntry: Codable, Sendable, Equatable {
        public var mac: String
        /// "local", or "peer" followed by the peer's index.
        public var location: String
        public var vlan: UInt16?
        public var ageSeconds: Double
        public var expiresInSeconds: Double
    }

    public var peer: Peer
    public var counters: Counters
    public var macs: [MACEntry]

    public init(peer: Peer, counters: Counters, macs: [MACEntry]) {
        self.peer = peer
        self.counters = counters
        self.macs = macs
    }

    /// Builds the report from the data plane's state at `now`.
    public init(link: PeerLink, endpoint: String, table: MACTable, counters: Counters, now: Moment) {
        peer = Peer(
            endpoint: endpoint,
            up: link.isUp(now: now),
            secondsSinceLastReceive: link.lastAuthenticatedReceive.map { now.since($0).secondsValue },
            roundTripMilliseconds: link.roundTripTime.map { $0.secondsValue * 1000 },
            sessionAgeSeconds: link.current.map { now.since($0.createdAt).secondsValue }
        )
        self.counters = counters
        macs = table.snapshot(now: now).map { row in
            let location: String
            switch row.entry.location {
            case .local: location = "local"
            case .remote(let peer): location = "peer\(peer)"
            }
            return MACEntry(
                mac: row.address.description, location: location, vlan: row.entry.vlan,
                ageSeconds: now.since(row.entry.learnedAt).secondsValue,
                expiresInSeconds: table.expiry(of: row.entry).since(now).secondsValue
            )
        }
    }
}
