import Synchronization

/// What lane 0 alone decides, posted for a gateway's other lanes (Lane): its peers (each by
/// slot and incarnation, with its identity and configuration), their sessions, addresses,
/// path MTUs and storm meters. Lane 0 posts when one of them changed, which handshakes,
/// reloads, roaming and path MTU discovery do a few times a minute; the other lanes look at
/// the generation (one atomic load) when they start a batch and copy only when it moved, and
/// mirror lane 0's peers from it. The lock is taken by a post and by a copy, never per frame.
///
/// The other way, a lane asks lane 0 here for what only lane 0 does (`Request`), and wakes
/// it; and every lane tells the others what addresses it learned (LearnRing).
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
        public let incarnation: UInt64
        public let configuration: PeerConfiguration
        public let identity: SiteIdentity
        public let sessions: Sessions
        public let address: EndpointAddress?
        public let pathMTU: PathMTUDiscovery
        let stormToPeer: StormControl
        let stormFromPeer: StormControl
        let heard: HeardAt

        init(_ peer: Peer) {
            slot = peer.slot
            incarnation = peer.incarnation
            configuration = peer.configuration
            identity = peer.link.identity
            sessions = peer.link.sessions
            address = peer.address
            pathMTU = peer.pathMTU
            stormToPeer = peer.stormToPeer
            stormFromPeer = peer.stormFromPeer
            heard = peer.heard
        }

        /// Whether `peer` still has what this says: the same peer in the same slot, its
        /// sessions, address, meters and the sizes frames are cut by.
        func describes(_ peer: Peer) -> Bool {
            slot == peer.slot && incarnation == peer.incarnation && address == peer.address
                && pathMTU.confirmed == peer.pathMTU.confirmed && sessions.isSame(as: peer.link.sessions)
                && stormToPeer === peer.stormToPeer && stormFromPeer === peer.stormFromPeer && heard === peer.heard
                && configuration == peer.configuration
        }
    }

    /// What another lane asks of lane 0, about the peer in `slot` (if it is still the one of
    /// `incarnation`): each follows a message of the peer's that authenticated.
    public enum Request: Sendable, Equatable {
        /// A message opened under the session lane 0 answered and holds as `next`, whose
        /// local index this is: the peer has the session, which may become current.
        case confirm(slot: Int, incarnation: UInt64, localIndex: UInt32)
        /// A message came from this address: the peer moved (a new NAT mapping).
        case roam(slot: Int, incarnation: UInt64, address: EndpointAddress)
    }

    private let posted = Mutex<(generation: UInt64, peers: [PeerState])>((0, []))
    private let latestGeneration = Atomic<UInt64>(0)
    private let handshakeWanted = Atomic<Bool>(false)
    private let requests = Mutex<[Request]>([])
    private let requestsWaiting = Atomic<Bool>(false)
    /// Wakes lane 0's thread (its eventfd in the daemon), so that a request is taken at once.
    private let wakePrimary: @Sendable () -> Void
    public let laneCount: Int
    /// `rings[from * laneCount + to]`: what lane `from` learned, for lane `to`.
    private let rings: [LearnRing]

    public init(laneCount: Int, wakePrimary: @escaping @Sendable () -> Void = {}) {
        self.laneCount = laneCount
        self.wakePrimary = wakePrimary
        rings = (0..<laneCount * laneCount).map { _ in LearnRing() }
    }

    // MARK: - Lane 0 to the others

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

    // MARK: - The others to lane 0

    /// A lane has frames for a peer that has no session: lane 0 starts handshakes that gave
    /// up (PeerLink.frameWaiting). A load before the store keeps a stream of such frames
    /// from writing the shared line, and waking lane 0, again and again.
    func askForHandshake() {
        guard !handshakeWanted.load(ordering: .relaxed) else { return }
        handshakeWanted.store(true, ordering: .relaxed)
        wakePrimary()
    }

    /// Whether a lane asked since the last call.
    func takeHandshakeRequest() -> Bool {
        handshakeWanted.load(ordering: .relaxed) && handshakeWanted.exchange(false, ordering: .relaxed)
    }

    /// Asks lane 0 for what `request` says, and wakes it. A lane asks once per session or
    /// address (Peer.confirmationAsked, roamAsked), so this is rare.
    func ask(_ request: Request) {
        requests.withLock { $0.append(request) }
        requestsWaiting.store(true, ordering: .releasing)
        wakePrimary()
    }

    /// What the other lanes asked since the last call; an atomic load when nothing.
    func takeRequests() -> [Request] {
        guard requestsWaiting.load(ordering: .acquiring), requestsWaiting.exchange(false, ordering: .acquiringAndReleasing) else { return [] }
        return requests.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
    }

    // MARK: - Between all lanes

    /// Tells every other lane what `lane` learned (a full ring drops it: LearnRing).
    func share(_ learned: LearnedAddress, from lane: Int) {
        for other in 0..<laneCount where other != lane {
            rings[lane * laneCount + other].push(learned)
        }
    }

    /// What the other lanes learned for `lane` since it last looked.
    func takeShared(for lane: Int, _ body: (LearnedAddress) -> Void) {
        for other in 0..<laneCount where other != lane {
            rings[other * laneCount + lane].drain(body)
        }
    }
}
