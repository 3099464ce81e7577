/// What the daemon reports about itself: a copy taken by the data plane on request, so that
/// reading it never holds up a frame.
public struct StatusSnapshot: Codable, Sendable, Equatable {
    public struct Peer: Codable, Sendable, Equatable {
        public var endpoint: String
        /// The peer's public key, base64: who the peer is.
        public var publicKey: String
        public var up: Bool
        /// Seconds since the latest handshake completed (a session made, either role); nil
        /// before the first.
        public var secondsSinceLatestHandshake: Double?
        /// Whether handshake messages currently need a cookie (mac2) to be processed.
        public var handshakeUnderLoad: Bool
        public var secondsSinceLastReceive: Double?
        public var roundTripMilliseconds: Double?
        public var sessionAgeSeconds: Double?
        /// The largest IP packet known to cross to the peer without fragmentation.
        public var pathMTU: Int
        /// The largest Ethernet frame that crosses in one datagram; larger ones are split.
        public var largestWholeFrame: Int
        public var pathMTUSearching: Bool
    }

    public struct ReassemblySummary: Codable, Sendable, Equatable {
        public var framesInProgress: Int
        public var bytesInUse: Int
        /// The fixed memory reassembly may ever use.
        public var capacityBytes: Int
    }

    public struct MACEntry: Codable, Sendable, Equatable {
        public var mac: String
        /// "local", or "peer" for an address behind the peer gateway named by `peer`.
        public var location: String
        /// The index of the peer the address is behind; nil when local.
        public var peer: Int?
        /// That peer's address, as the daemon reaches it now.
        public var peerEndpoint: String?
        public var vlan: UInt16?
        /// Seconds since the address was learned at its current location.
        public var ageSeconds: Double
        public var expiresInSeconds: Double

        public init(mac: String, location: MACLocation, peerEndpoint: String?, vlan: UInt16?, ageSeconds: Double, expiresInSeconds: Double) {
            self.mac = mac
            switch location {
            case .local:
                self.location = "local"
            case .remote(let peer):
                self.location = "peer"
                self.peer = peer
                self.peerEndpoint = peerEndpoint
            }
            self.vlan = vlan
            self.ageSeconds = ageSeconds
            self.expiresInSeconds = expiresInSeconds
        }

        public var macLocation: MACLocation { peer.map { .remote(peer: $0) } ?? .local }
    }

    public struct MACTableSummary: Codable, Sendable, Equatable {
        public var entries: Int
        public var capacity: Int
        public var agingSeconds: Double
    }

    public var peer: Peer
    public var counters: Counters
    public var macTable: MACTableSummary
    public var macs: [MACEntry]
    public var reassembly: ReassemblySummary

    /// Builds the report from the data plane's state at `now`.
    public init(
        link: PeerLink, endpoint: String, pathMTU: PathMTUDiscovery, reassembler: Reassembler,
        table: MACTable, counters: Counters, now: Moment
    ) {
        peer = Peer(
            endpoint: endpoint,
            publicKey: link.identity.peer.base64,
            up: link.isUp(now: now),
            secondsSinceLatestHandshake: link.latestHandshake.map { now.since($0).secondsValue },
            handshakeUnderLoad: link.isUnderLoad(now: now),
            secondsSinceLastReceive: link.lastAuthenticatedReceive.map { now.since($0).secondsValue },
            roundTripMilliseconds: link.roundTripTime.map { $0.secondsValue * 1000 },
            sessionAgeSeconds: link.current.map { now.since($0.createdAt).secondsValue },
            pathMTU: pathMTU.confirmed,
            largestWholeFrame: pathMTU.largestWholeFrame,
            pathMTUSearching: pathMTU.isSearching
        )
        reassembly = ReassemblySummary(
            framesInProgress: reassembler.framesInProgress, bytesInUse: reassembler.bytesInUse,
            capacityBytes: reassembler.capacityBytes
        )
        self.counters = counters
        macs = table.snapshot(now: now).map { row in
            MACEntry(
                mac: row.address.description, location: row.entry.location, peerEndpoint: endpoint, vlan: row.entry.vlan,
                ageSeconds: now.since(row.entry.learnedAt).secondsValue,
                expiresInSeconds: table.expiry(of: row.entry).since(now).secondsValue
            )
        }
        macTable = MACTableSummary(entries: macs.count, capacity: table.capacity, agingSeconds: table.agingTime.secondsValue)
    }
}
