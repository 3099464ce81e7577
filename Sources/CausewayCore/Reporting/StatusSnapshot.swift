/// What the daemon reports about itself: a copy taken by the data plane on request, so that
/// reading it never holds up a frame.
///
/// The data plane only copies counters and summaries here, and the MAC table as a value when
/// the request needs its rows; sorting and formatting those rows is the control side's work
/// (CausewayControl's `StatusSnapshot.macEntries()`), done only when asked.
public struct StatusSnapshot: Encodable, Sendable {
    public struct Peer: Codable, Sendable, Equatable {
        /// The name the configuration gives it.
        public var name: String
        /// Its slot, by which the MAC table names it.
        public var slot: Int
        /// Where it is reached now; nil for a peer that only calls in and has not yet.
        public var endpoint: String?
        /// The peer's public key, base64: who the peer is.
        public var publicKey: String
        public var up: Bool
        /// Seconds since the latest handshake completed (a session made, either role); nil
        /// before the first.
        public var secondsSinceLatestHandshake: Double?
        /// Whether handshake messages currently need a cookie (mac2) to be processed.
        public var handshakeUnderLoad: Bool
        public var secondsSinceLastReceive: Double?
        /// From the last keepalive and its reply; seconds, like every time in the report.
        public var roundTripSeconds: Double?
        public var sessionAgeSeconds: Double?
        /// The transport cipher of the current session; nil without one.
        public var cipher: CipherSuite?
        /// The largest IP packet known to cross to the peer without fragmentation.
        public var pathMTU: Int
        /// The largest Ethernet frame that crosses in one datagram; larger ones are split.
        public var largestWholeFrame: Int
        public var pathMTUSearching: Bool
        /// What happened with this peer alone; the snapshot's `counters` add up every peer's.
        public var counters: Counters

        /// One peer's summary from its link and path at `now`.
        public init(
            name: String, slot: Int, link: PeerLink, endpoint: String?, pathMTU: PathMTUDiscovery, counters: Counters, now: Moment
        ) {
            self.name = name
            self.slot = slot
            self.endpoint = endpoint
            publicKey = link.identity.peer.base64
            up = link.isUp(now: now)
            secondsSinceLatestHandshake = link.latestHandshake.map { now.since($0).secondsValue }
            handshakeUnderLoad = link.isUnderLoad(now: now)
            secondsSinceLastReceive = link.lastAuthenticatedReceive.map { now.since($0).secondsValue }
            roundTripSeconds = link.roundTripTime.map { $0.secondsValue }
            sessionAgeSeconds = link.current.map { now.since($0.createdAt).secondsValue }
            cipher = link.current?.suite
            self.pathMTU = pathMTU.confirmed
            largestWholeFrame = pathMTU.largestWholeFrame
            pathMTUSearching = pathMTU.isSearching
            self.counters = counters
        }
    }

    public struct ReassemblySummary: Codable, Sendable, Equatable {
        public var framesInProgress: Int
        public var bytesInUse: Int
        /// The fixed memory reassembly may ever use.
        public var capacityBytes: Int
    }

    public struct MACTableSummary: Codable, Sendable, Equatable {
        /// Addresses held, including any aged out within the last second, not yet swept.
        public var entries: Int
        public var capacity: Int
        public var agingSeconds: Double
    }

    /// One data-plane thread's share of the work (Lane), in the order of the lanes.
    public struct LaneSummary: Codable, Sendable, Equatable {
        public var framesFromLAN: UInt64
        public var framesToPeers: UInt64
        public var framesFromPeers: UInt64
        public var framesToLAN: UInt64
        public var drops: UInt64
        /// Addresses in this lane's own MAC table.
        public var macEntries: Int

        public init(counters: Counters, macEntries: Int) {
            framesFromLAN = counters.framesFromLAN
            framesToPeers = counters.framesToPeer
            framesFromPeers = counters.framesFromPeer
            framesToLAN = counters.framesToLAN
            drops = counters.drops.total
            self.macEntries = macEntries
        }
    }

    /// Every peer, in the configuration's order of slots.
    public var peers: [Peer]
    /// Every data-plane thread; one unless `data-plane-threads` asks for more.
    public var lanes: [LaneSummary]
    /// Whether this gateway relays frames between its peers.
    public var hub: Bool
    /// The gateway's totals: its own counts and every peer's.
    public var counters: Counters
    public var macTable: MACTableSummary
    public var reassembly: ReassemblySummary
    /// When the data plane took the snapshot, on its monotonic clock: the ages and expiries of
    /// the entries in `table` count from here.
    public var takenAt: Moment
    /// A copy of the MAC table with storage of its own, when the request asked for it (`macs`,
    /// `explain`); nil otherwise.
    public var table: MACTable?

    /// What the snapshot's JSON holds (the daemon logs its final state): the table is left out.
    private enum CodingKeys: String, CodingKey {
        case peers, lanes, hub, counters, macTable, reassembly
    }

    /// Builds the report from the data path's state at `now`; copies the MAC table only when
    /// `includingMACTable`. Runs on the data-plane thread: it formats no MAC row.
    public init(path: DataPath, now: Moment, includingMACTable: Bool) {
        self.init(
            peers: path.peers.map { peer in
                Peer(
                    name: peer.name, slot: peer.slot, link: peer.link, endpoint: peer.address.map { "\($0)" },
                    pathMTU: peer.pathMTU, counters: peer.counters, now: now
                )
            },
            hub: path.isHub, counters: path.totalCounters, table: path.forwarder.table,
            reassembler: path.reassembler, now: now, includingMACTable: includingMACTable
        )
    }

    public init(
        peers: [Peer], hub: Bool, counters: Counters, table: MACTable, reassembler: Reassembler, now: Moment, includingMACTable: Bool
    ) {
        self.peers = peers
        self.hub = hub
        reassembly = ReassemblySummary(
            framesInProgress: reassembler.framesInProgress, bytesInUse: reassembler.bytesInUse,
            capacityBytes: reassembler.capacityBytes
        )
        self.counters = counters
        macTable = MACTableSummary(entries: table.count, capacity: table.capacity, agingSeconds: table.agingTime.secondsValue)
        lanes = [LaneSummary(counters: counters, macEntries: table.count)]
        takenAt = now
        self.table = includingMACTable ? table.detachedCopy() : nil
    }

    /// The gateway's report from each lane's (lane 0's first, each with its MAC table): lane
    /// 0's view of the peers, with every lane's counters added up, and the union of the lanes'
    /// MAC tables, kept only when `includingMACTable`. Runs on the control thread.
    public static func combining(_ lanes: [StatusSnapshot], includingMACTable: Bool) -> StatusSnapshot {
        precondition(!lanes.isEmpty, "a gateway has a lane")
        var combined = lanes[0]
        var table = lanes[0].table
        for other in lanes.dropFirst() {
            combined.counters.add(other.counters)
            for peer in other.peers {
                guard let index = combined.peers.firstIndex(where: { $0.slot == peer.slot }) else { continue }
                combined.peers[index].counters.add(peer.counters)
            }
            combined.reassembly.framesInProgress += other.reassembly.framesInProgress
            combined.reassembly.bytesInUse += other.reassembly.bytesInUse
            combined.reassembly.capacityBytes += other.reassembly.capacityBytes
            combined.lanes += other.lanes
            if let otherTable = other.table { table?.absorb(otherTable) }
        }
        combined.macTable.entries = table?.count ?? lanes.map(\.macTable.entries).max() ?? 0
        combined.table = includingMACTable ? table : nil
        return combined
    }

    /// The peer in `slot`, as the MAC table names it.
    public func peer(inSlot slot: Int) -> Peer? {
        peers.first { $0.slot == slot }
    }
}
