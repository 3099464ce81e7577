/// One peer gateway as the data path knows it: who it is, where it is reached, its link
/// (sessions, handshakes, keepalives), its path MTU, its storm meters and its counters. Each
/// peer has its own, so one peer going down or being slow leaves the others alone.
///
/// A class: the data path reaches a peer through its slot and updates it in place, its link
/// and its counters side by side. Owned by the data-plane thread.
public final class Peer: @unchecked Sendable {
    /// Its index in the data path's table of peers: what the MAC table names and every
    /// session index of the link carries.
    public let slot: Int
    /// Which peer of all that ever held `slot`: lane 0 numbers each new peer, and the other
    /// lanes mirror its peers by slot and incarnation (LaneBoard).
    public let incarnation: UInt64
    public internal(set) var configuration: PeerConfiguration
    public internal(set) var link: PeerLink
    /// Where the peer is reached now: configured, then wherever its authenticated messages
    /// come from; nil for a peer that only calls in, until it has.
    public internal(set) var address: EndpointAddress?
    public internal(set) var pathMTU: PathMTUDiscovery
    /// Flooded frames towards the peer, and flooded frames from it towards the LAN: meters
    /// every lane of the gateway shares.
    var stormToPeer: StormControl
    var stormFromPeer: StormControl
    /// On a lane other than 0: what it last asked lane 0 to take from this peer's messages,
    /// so that it asks once (LaneBoard.Request).
    var confirmationAsked: UInt32?
    var roamAsked: EndpointAddress?
    /// When lanes other than 0 last heard from the peer, for lane 0 (shared by every lane),
    /// and when this lane last said so.
    var heard: HeardAt
    var heardNotedAt = Moment.zero
    /// What happened with this peer alone; the gateway's totals add up every peer's.
    public internal(set) var counters = Counters()
    var events = LinkEvents()
    var wasUp = false
    var reportedPathMTU: Int?
    /// When each kind of warning about this peer's keys was last reported: one a minute at
    /// most of each, so one that anyone can provoke never hides another.
    private var lastKeyWarnings: [KeyWarning: Moment] = [:]
    static let keyWarningInterval = Duration.seconds(60)
    /// Handshakes from the peer's address that failed mac1 in the current minute: one can be
    /// junk spoofed from that address; a few in a row are the peer itself.
    private var misaddressed = (count: 0, since: Moment.zero)
    static let misaddressedBeforeWarning = 3

    enum KeyWarning: Hashable { case gaveUp, addressedToAnotherKey, responseNotAuthenticated, noCommonCipher }

    public var name: String { configuration.name }
    /// Who the peer is: the key its handshakes prove.
    public var publicKey: PublicKey { link.identity.peer }

    init(
        slot: Int, incarnation: UInt64, configuration: PeerConfiguration, link: PeerLink, overIPv6: Bool,
        storm: (toPeer: StormControl, fromPeer: StormControl), heard: HeardAt = HeardAt()
    ) {
        self.heard = heard
        self.slot = slot
        self.incarnation = incarnation
        self.configuration = configuration
        self.link = link
        address = configuration.endpoint.map(EndpointAddress.init)
        pathMTU = PathMTUDiscovery(overIPv6: overIPv6)
        stormToPeer = storm.toPeer
        stormFromPeer = storm.fromPeer
    }

    /// An authenticated message moves the peer's address: it may have roamed behind a new
    /// NAT mapping, or called in for the first time.
    @inline(__always)
    func roam(to source: EndpointAddress) {
        if source != address { address = source }
    }

    /// Whether a warning of this kind about the peer's keys may be logged now; if so, it
    /// counts as logged. Handshakes, not frames, reach this: the dictionary costs nothing that
    /// matters.
    func keyWarningDue(_ kind: KeyWarning, now: Moment) -> Bool {
        guard lastKeyWarnings[kind].map({ now.since($0) >= Self.keyWarningInterval }) ?? true else { return false }
        lastKeyWarnings[kind] = now
        return true
    }

    /// Notes a handshake from the peer's address that was not addressed to our key; true when
    /// enough came within a minute to say so.
    func noteMisaddressedHandshake(now: Moment) -> Bool {
        if now.since(misaddressed.since) >= Self.keyWarningInterval { misaddressed = (0, now) }
        misaddressed.count += 1
        return misaddressed.count >= Self.misaddressedBeforeWarning
    }

    /// Whether frames can go to the peer now: it has an address and a session.
    @inline(__always)
    func canSend(now: Moment) -> Bool {
        address != nil && link.sendingSession(now: now) != nil
    }

    /// The session and address frames for this peer go out with, when it has both.
    @inline(__always)
    func route(now: Moment) -> Route? {
        guard let address, let session = link.sendingSession(now: now) else { return nil }
        return Route(peer: self, session: session, address: address)
    }
}

/// Where a frame goes out: the peer, the session it is sealed with, the address it is sent to.
struct Route {
    let peer: Peer
    let session: Session
    let address: EndpointAddress
}
