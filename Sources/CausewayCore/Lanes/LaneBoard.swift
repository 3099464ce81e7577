import Synchronization

/// What lane 0 alone decides, posted for a gateway's other lanes (Lane): each peer's
/// sessions, address and path MTU. Lane 0 posts when one of them changed, which handshakes,
/// roaming and path MTU discovery do a few times a minute; the other lanes look at the
/// generation (one atomic load) when they start a batch and copy only when it moved. The
/// lock is taken by a post and by a copy, never per frame.
///
/// A lane also asks lane 0 here for a handshake, when it has frames for a peer without a
/// session, and tells the other lanes what addresses it learned (LearnRing).
public final class LaneBoard: Sendable {
    /// A peer's sessions, as PeerLink holds them.
    public struct Sessions: Sendable {
        public var current: Session?
        public var previous: Session?
        public var next: Session?

        public static let none = Sessions(current: nil, previous: nil, next: nil)

        /// The same three sessions (by identity): nothing to post.
        func isSame(as other: Sessions) -> Bool {
            current === other.current && previous === other.previous && next === other.next
        }
    }

    /// One peer, as lane 0 knows it.
    public struct PeerState: Sendable {
        public let slot: Int
        public let sessions: Sessions
        public let address: EndpointAddress?
        public let pathMTU: PathMTUDiscovery

        init(_ peer: Peer) {
            slot = peer.slot
            sessions = peer.link.sessions
            address = peer.address
            pathMTU = peer.pathMTU
        }

        /// Whether `peer` still has what this says: the same slot, sessions, address and the
        /// sizes frames are cut by.
        func describes(_ peer: Peer) -> Bool {
            slot == peer.slot && address == peer.address && pathMTU.confirmed == peer.pathMTU.confirmed
                && sessions.isSame(as: peer.link.sessions)
        }
    }

    private let posted = Mutex<(generation: UInt64, peers: [PeerState])>((0, []))
    private let latestGeneration = Atomic<UInt64>(0)
    private let handshakeWanted = Atomic<Bool>(false)
    public let laneCount: Int
    /// `rings[from * laneCount + to]`: what lane `from` learned, for lane `to`.
    private let rings: [LearnRing]
    /// Addresses a full ring refused.
    private let ringsOverflowed = Atomic<UInt64>(0)

    public init(laneCount: Int) {
        self.laneCount = laneCount
        rings = (0..<laneCount * laneCount).map { _ in LearnRing() }
    }

    /// Tells every other lane what `lane` learned.
    func share(_ learned: LearnedAddress, from lane: Int) {
        for other in 0..<laneCount where other != lane {
            if !rings[lane * laneCount + other].push(learned) { ringsOverflowed.add(1, ordering: .relaxed) }
        }
    }

    /// What the other lanes learned for `lane` since it last looked.
    func takeShared(for lane: Int, _ body: (LearnedAddress) -> Void) {
        for other in 0..<laneCount where other != lane {
            rings[other * laneCount + lane].drain(body)
        }
    }

    /// How many learned addresses a full ring refused since start.
    public var sharesRefused: UInt64 { ringsOverflowed.load(ordering: .relaxed) }

    /// Moves each time lane 0 posts.
    public var generation: UInt64 { latestGeneration.load(ordering: .acquiring) }

    /// Lane 0's new state of every peer.
    func post(_ peers: [PeerState]) {
        posted.withLock { board in
            board.generation &+= 1
            board.peers = peers
            latestGeneration.store(board.generation, ordering: .releasing)
        }
    }

    /// The latest post and its generation.
    func read() -> (generation: UInt64, peers: [PeerState]) {
        posted.withLock { ($0.generation, $0.peers) }
    }

    /// A lane has frames for a peer that has no session: lane 0 starts handshakes that gave
    /// up (PeerLink.frameWaiting). A load before the store keeps a stream of such frames
    /// from writing the shared line again and again.
    func askForHandshake() {
        if !handshakeWanted.load(ordering: .relaxed) { handshakeWanted.store(true, ordering: .relaxed) }
    }

    /// Whether a lane asked since the last call.
    func takeHandshakeRequest() -> Bool {
        handshakeWanted.load(ordering: .relaxed) && handshakeWanted.exchange(false, ordering: .relaxed)
    }
}
