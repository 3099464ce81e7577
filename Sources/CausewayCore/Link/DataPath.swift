/// Everything that happens to a frame between the LAN and the peer, and to a datagram
/// between the peer and the LAN: switching, sessions, sealing, fragmentation, path MTU,
/// control messages. It owns the link's state and does its I/O through two small ports (a
/// `FrameDevice` and a `DatagramSocket`), so the same code runs over the TAP and UDP in the
/// daemon and over memory in tests, where two of them are wired back to back.
///
/// It serves any number of peers over its one socket: each peer (Peer) has its own link,
/// path MTU and counters; the MAC table maps an address to this LAN or to one peer's slot.
///
/// One thread drives it, with the current time: `serviceTimers`, then `receiveFromPeer` and
/// `forwardFromLAN` when their descriptors are ready. Buffers are allocated once, here;
/// nothing on the per-frame path allocates, logs or locks. Events an operator wants to read
/// about are collected for `takeEvents`, never logged here.
///
/// A gateway with several data-plane threads has one data path per thread (its `lane`), each
/// over its own TAP queue and socket. Lane 0's runs handshakes, timers, path MTU discovery and
/// the carrier, and posts each peer's sessions, address and path MTU on the `board`; the
/// others take them from there and only move frames.
///
/// LAN to WAN is in DataPath+LAN.swift, WAN to LAN in DataPath+WAN.swift, keepalives and
/// path MTU probes in DataPath+Control.swift.
public final class DataPath: @unchecked Sendable {
    /// Batches taken from one port before the other gets its turn.
    public static let batchesPerTurn = 8
    /// Large enough for the biggest datagram and frame the link carries whole.
    public static let bufferSize = 1 << 14
    /// The largest frame the TAP hands over with segmentation offload (64 KiB of IP packet,
    /// Ethernet and VLAN headers), and a send slot that holds it with the data header and tag.
    public static let largestLANFrame = (1 << 16) + 64
    public static let sendSlotSize = largestLANFrame + WireFormat.dataOverhead

    let lan: any FrameDevice
    let wan: any DatagramSocket
    let networkID: NetworkID
    var answersTooBig: Bool
    public let macHoldTime: Duration
    var timing: LinkTiming
    /// Storm control's rate and burst, for the meters of each new peer (on lane 0, which
    /// makes them for every lane).
    var floodLimits: (rate: Int, burst: Int)
    let overIPv6: Bool
    var refusedClaims = RefusedClaims()
    /// Which thread of the gateway this is; lane 0 unless the gateway runs several.
    public let lane: Lane
    /// Where lane 0 posts what the other lanes take; nil with one lane.
    let board: LaneBoard?
    /// What lane 0 posted last, to tell whether anything changed since.
    var posted: [LaneBoard.PeerState] = []
    /// The board's generation this lane (not lane 0) took last; nil when it must look again.
    var adoptedGeneration: UInt64?
    /// Lane 0's number for the next peer it adds (Peer.incarnation).
    private var nextIncarnation: UInt64 = 1

    /// The peers by slot (PeerSlots); a removed peer leaves a hole that a new one may fill.
    public private(set) var peerSlots: [Peer?] = []
    /// The peers in slot order, without holes: what timers and floods walk.
    public private(set) var peers: [Peer] = []
    /// Whether frames from one peer are relayed to others (`hub`); never back to their sender.
    public internal(set) var isHub: Bool
    /// Handshake checks every link shares: an initiation names its peer only once opened.
    let desk = HandshakeDesk()
    public let localKey: PrivateKey
    public let psk: PreSharedKey

    public internal(set) var forwarder: Forwarder
    public let reassembler = Reassembler()
    let tcpCoalescer = TCPCoalescer()
    let udpCoalescer = UDPCoalescer()
    /// Whether the LAN device takes merged datagrams (`FrameDevice.acceptsUDPSegmentation`).
    public let mergesDatagrams: Bool
    /// What is not any one peer's: frames from the LAN and their switching, datagrams that
    /// name no peer. `totalCounters` adds every peer's.
    public internal(set) var counters = Counters()

    /// A frame from a peer, decrypted.
    let frameBuffer: UnsafeMutableRawBufferPointer
    /// A frame from the LAN too large for one datagram, while it is cut into fragments.
    let oversizedFrame: UnsafeMutableRawBufferPointer
    /// One fragment's plaintext: its header, then its piece of frame.
    let fragmentBuffer: UnsafeMutableRawBufferPointer
    let controlBuffer: UnsafeMutableRawBufferPointer
    let controlPayload: UnsafeMutableRawBufferPointer
    /// The virtio-net header of the frame just read from the LAN.
    let lanHeader: UnsafeMutableRawBufferPointer
    /// A frame from the LAN that goes to more than one peer, or is cut into segments, moved
    /// out of the send slot it was read into.
    let lanFrame: UnsafeMutableRawBufferPointer
    /// The bytes a segment's headers cover while it is sealed where it lies (`sealSegment`).
    let segmentHeaders: UnsafeMutableRawBufferPointer
    /// The slots of the peers a flood goes to (`chooseFloodTargets`), one per peer at most.
    let floodTargets: UnsafeMutableBufferPointer<Int>
    /// Send slots holding frames a hub relays, filled while datagrams are received.
    var relaysPrepared = 0
    var nextFrameID: UInt32 = 0
    private var lastSweep = Moment.zero
    /// When `tend` next runs the timers: the deadline they left, or now, once something
    /// happened that may want them sooner (`bringTimersForward`).
    private var timersDue = Moment.zero
    /// What happened that is no one peer's, for `takeEvents`.
    var events = LinkEvents()
    private var lastStrangerReport: Moment?
    private var carrierUp = false
    /// Whether some peer was up at the last look: carrier goes off only when the last peer
    /// up goes down, never before any peer has come up.
    private var anyPeerWasUp = false
    /// The LAN device refused to change its carrier (a kernel before 4.19): frames are then
    /// sent into a tunnel that is down, as before carriers followed the peer.
    public private(set) var carrierFailed = false

    /// `identities[i]` is this site's identity towards `configuration.peers[i]`. Each lane of a
    /// gateway with several has its own data path, all of them sharing one `board`.
    public init(
        configuration: Configuration, identities: [SiteIdentity], lan: any FrameDevice, wan: any DatagramSocket,
        lane: Lane = .only, board: LaneBoard? = nil
    ) {
        // What the frame path assumes of the socket's slots: room for a frame's fragments in
        // one batch, and a frame read into a slot fits `lanFrame` when it must be cut.
        precondition(wan.sendSlotCount >= Reassembler.maximumPieces, "a batch holds every fragment of one frame")
        precondition(wan.sendSlot(0).count == Self.sendSlotSize, "send slots are DataPath.sendSlotSize bytes")
        precondition(identities.count == configuration.peers.count && !identities.isEmpty, "one identity per peer")
        precondition(lane.count == 1 || board != nil, "lanes share a board")
        self.lane = lane
        self.board = board
        self.lan = lan
        self.wan = wan
        networkID = configuration.networkID
        answersTooBig = configuration.icmpTooBig
        macHoldTime = configuration.macHoldTime
        timing = LinkTiming(keepaliveInterval: configuration.keepaliveInterval)
        floodLimits = (configuration.floodRate, configuration.floodBurst)
        overIPv6 = configuration.listen.isIPv6
        isHub = configuration.hub
        localKey = identities[0].local
        psk = identities[0].psk
        forwarder = Forwarder(
            table: MACTable(capacity: configuration.macTableSize, agingTime: configuration.macAgingTime), sharingWith: board, lane: lane.index
        )
        frameBuffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
        oversizedFrame = .allocate(byteCount: Self.bufferSize, alignment: 16)
        fragmentBuffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
        controlBuffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
        controlPayload = .allocate(byteCount: Self.bufferSize, alignment: 16)
        lanHeader = .allocate(byteCount: VirtioNetHeader.length, alignment: 8)
        lanFrame = .allocate(byteCount: Self.largestLANFrame, alignment: 16)
        // Ethernet with two tags, IPv4 with options or IPv6, TCP with options: within 256.
        segmentHeaders = .allocate(byteCount: 256, alignment: 16)
        floodTargets = .allocate(capacity: PeerSlots.capacity)
        mergesDatagrams = lan.acceptsUDPSegmentation
        // Each lane numbers the frames it splits in its own space: fragments of frames from
        // two lanes of the peer may meet in one reassembler.
        nextFrameID = UInt32(lane.index) << Self.frameIDLaneShift
        // Lane 0 makes the peers; the others mirror them from its post, slot for slot.
        if lane.isPrimary {
            for (peer, identity) in zip(configuration.peers, identities) { add(peer, identity: identity) }
        }
        // Carrier from the start: the first frames the bridge sends start the handshake, and
        // the first ones from a peer are not lost while the kernel turns a port on (it
        // takes a carrier change up to a second to reach the bridge). It goes off only
        // once every peer, having been up, falls silent. The carrier is the device's, so
        // lane 0's alone.
        if lane.isPrimary {
            carrierFailed = lan.setCarrier(true) != .completed(0)
        }
        carrierUp = true
        postIfChanged()
        catchUpWithOtherLanes(now: .zero)
    }

    /// Where a lane's number sits in the frame ids it gives split frames.
    static let frameIDLaneShift: UInt32 = 24

    /// A data path with one peer, as two sites have.
    public convenience init(configuration: Configuration, identity: SiteIdentity, lan: any FrameDevice, wan: any DatagramSocket) {
        self.init(configuration: configuration, identities: [identity], lan: lan, wan: wan)
    }

    deinit {
        for buffer in [frameBuffer, oversizedFrame, fragmentBuffer, controlBuffer, controlPayload, lanHeader, lanFrame, segmentHeaders] {
            buffer.deallocate()
        }
        floodTargets.deallocate()
    }

    // MARK: - Peers

    /// The peer in `slot`, if there is one.
    @inline(__always)
    func peer(inSlot slot: Int) -> Peer? {
        slot < peerSlots.count ? peerSlots[slot] : nil
    }

    /// The peer with this public key.
    public func peer(withKey key: PublicKey) -> Peer? {
        peers.first { $0.publicKey == key }
    }

    /// Every counter of the gateway: its own and every peer's added up.
    public var totalCounters: Counters {
        peers.reduce(into: counters) { $0.add($1.counters) }
    }

    /// Lane 0 adds a peer in the first free slot, with meters every lane will share.
    private func add(_ configuration: PeerConfiguration, identity: SiteIdentity) {
        let slot = peerSlots.firstIndex { $0 == nil } ?? peerSlots.count
        place(Peer(
            slot: slot, incarnation: nextIncarnation, configuration: configuration,
            link: PeerLink(peerID: slot, identity: identity, timing: timing, desk: desk, lane: lane), overIPv6: overIPv6,
            storm: newStormMeters()
        ))
        nextIncarnation += 1
    }

    /// A peer's two storm meters (to it, from it), full, at the configured rate and burst.
    private func newStormMeters() -> (toPeer: StormControl, fromPeer: StormControl) {
        (StormControl(rate: floodLimits.rate, burst: floodLimits.burst), StormControl(rate: floodLimits.rate, burst: floodLimits.burst))
    }

    /// Puts `peer` in its slot, in place of whoever held it.
    func place(_ peer: Peer) {
        while peerSlots.count <= peer.slot { peerSlots.append(nil) }
        peerSlots[peer.slot] = peer
        peers = peerSlots.compactMap { $0 }
    }

    /// Takes `peer` out, with what was learned behind it; what it did stays in the totals.
    func remove(_ peer: Peer) {
        peerSlots[peer.slot] = nil
        forwarder.forget(peer: peer.slot)
        reassembler.forget(peer: peer.slot)
        counters.add(peer.counters)
        peers = peerSlots.compactMap { $0 }
    }

    /// Applies a new list of peers (a reload): a peer is its public key, so one whose key
    /// stays keeps its sessions, addresses learned and counters, and takes a new name or
    /// endpoint; one whose key is gone is removed with what was learned from it; a new key
    /// is a new peer. `identities[i]` belongs to `newPeers[i]`. Returns what changed.
    ///
    /// On another lane than 0 only `hub` applies here: its peers follow lane 0's post.
    public func reconfigure(peers newPeers: [PeerConfiguration], identities: [SiteIdentity], hub: Bool) -> PeerChanges {
        precondition(identities.count == newPeers.count && !newPeers.isEmpty, "one identity per peer")
        var changes = PeerChanges()
        isHub = hub
        bringTimersForward()
        guard lane.isPrimary else {
            adoptedGeneration = nil
            return changes
        }
        for peer in peers where !newPeers.contains(where: { $0.publicKey == peer.publicKey }) {
            remove(peer)
            changes.removed.append(peer.name)
        }
        for (configuration, identity) in zip(newPeers, identities) {
            guard let peer = peer(withKey: configuration.publicKey) else {
                add(configuration, identity: identity)
                changes.added.append(configuration.name)
                continue
            }
            if peer.configuration.endpoint != configuration.endpoint, let endpoint = configuration.endpoint {
                peer.address = EndpointAddress(endpoint)
                changes.moved.append(configuration.name)
            }
            peer.configuration = configuration
        }
        postIfChanged()
        return changes
    }

    /// Applies the settings a reload may change besides the peers: the keepalive interval,
    /// MAC aging, storm control's rate and burst (each peer's meters start full again; lane
    /// 0 makes them, the others take them from its post), and whether too-big frames are
    /// answered with ICMP.
    public func applyLiveSettings(_ configuration: Configuration) {
        answersTooBig = configuration.icmpTooBig
        forwarder.setAgingTime(configuration.macAgingTime)
        if lane.isPrimary, (configuration.floodRate, configuration.floodBurst) != floodLimits {
            floodLimits = (configuration.floodRate, configuration.floodBurst)
            for peer in peers {
                (peer.stormToPeer, peer.stormFromPeer) = newStormMeters()
            }
        }
        timing.keepaliveInterval = configuration.keepaliveInterval
        for peer in peers { peer.link.timing = timing }
        bringTimersForward()
        postIfChanged()
    }

    /// What a reload changed, by peer name.
    public struct PeerChanges: Sendable, Equatable {
        public var added: [String] = []
        public var removed: [String] = []
        /// Peers given a new endpoint.
        public var moved: [String] = []
    }

    // MARK: - Timers

    /// What a data-plane thread does between turns: the timers and the events they and the
    /// turns left, but only once a deadline passed or something happened that may move one
    /// (`bringTimersForward`). A turn that only carried frames is followed by a comparison,
    /// so a lone frame is not made to wait behind a pass over every peer. At least once a
    /// second all the same. Returns when to come back.
    public func tend(now: Moment, wallClock: () -> HandshakeTimestamp, report: (Peer?, LinkEvents) -> Void) -> Moment {
        guard now >= timersDue else { return timersDue }
        serviceTimers(now: now, wallClock: wallClock())
        takeEvents(now: now, report)
        timersDue = min(nextDeadline(now: now), now + Self.sweepInterval)
        return timersDue
    }

    /// The next `tend` runs the timers: called for whatever may need them before their
    /// deadline (a handshake or control message, a session made, a frame that restarts
    /// handshakes which gave up, a peer heard from again after it went down, a datagram the
    /// device refused as too large, an event to report, a reload). Whatever is missed waits
    /// a second at most.
    public func bringTimersForward() {
        timersDue = .zero
    }

    /// When `serviceTimers` next has something to do.
    public func nextDeadline(now: Moment) -> Moment {
        var deadline = now + (lane.isPrimary ? timing.keepaliveInterval : Self.sweepInterval)
        for peer in peers where lane.isPrimary {
            deadline = min(deadline, peer.link.nextDeadline(now: now))
            if peer.link.sendingSession(now: now) != nil {
                deadline = min(deadline, peer.pathMTU.nextDeadline(now: now, roundTripTime: peer.link.roundTripTime))
            }
        }
        if reassembler.framesInProgress > 0 {
            deadline = min(deadline, now + Reassembler.timeout / 4)
        }
        return deadline
    }

    /// Does what is due: handshake initiations and retries, keepalives, path MTU probes,
    /// reassembly timeouts and MAC aging.
    public func serviceTimers(now: Moment, wallClock: HandshakeTimestamp) {
        // The other lanes' requests, and what they heard, before the timers judge a peer.
        catchUpWithOtherLanes(now: now)
        guard lane.isPrimary else {
            expireOld(now: now)
            return
        }
        for peer in peers {
            let due = peer.link.timersDue(now: now, wallClock: wallClock, canInitiate: peer.address != nil, counters: &peer.counters)
            if due.gaveUp, peer.keyWarningDue(.gaveUp, now: now) { peer.events.handshakeGaveUp = true }
            if let initiation = due.initiation, let address = peer.address {
                initiation.withUnsafeBytes { _ = sendNow($0, to: address, counting: peer) }
            }
            if due.keepalive {
                sendControl(.keepalive, stamp: now.nanoseconds, to: peer, now: now)
            }
            if peer.link.sendingSession(now: now) != nil {
                probePath(peer, now: now)
            }
        }
        expireOld(now: now)
        noteTransitions(now: now)
        postIfChanged()
    }

    /// How often aged MAC addresses are swept out.
    static let sweepInterval = Duration.seconds(1)

    /// Split frames that waited too long, and MAC addresses aged out.
    private func expireOld(now: Moment) {
        if reassembler.framesInProgress > 0 {
            reassembler.expire(now: now, counters: &counters)
        }
        if now.since(lastSweep) >= Self.sweepInterval {
            lastSweep = now
            forwarder.removeExpired(now: now)
        }
    }

    // MARK: - The bridge's own knowledge

    /// This site's bridge saw `address` on a LAN port at `seenAt`: a host of this site, even
    /// if none of its frames ever reached the tunnel. Called once a second, with at most a
    /// table's worth of what the bridge's forwarding database holds.
    public func noteSeenOnLAN(_ address: MACAddress, at seenAt: Moment, now: Moment) {
        forwarder.seenOnLAN(address, at: min(seenAt, now), now: now, counters: &counters)
    }

    // MARK: - Events

    /// Hands each peer's events since the last call (those an operator wants in the log) to
    /// `report`, then the gateway's own (with no peer), and clears them.
    public func takeEvents(now: Moment, _ report: (Peer?, LinkEvents) -> Void) {
        if lane.isPrimary { noteTransitions(now: now) }
        for peer in peers {
            if peer.link.responseFailedAuthentication {
                peer.link.responseFailedAuthentication = false
                if peer.keyWarningDue(.responseNotAuthenticated, now: now) { peer.events.responseNotAuthenticated = true }
            }
            if let theirs = peer.link.refusedCipherOffer {
                peer.link.refusedCipherOffer = nil
                if peer.keyWarningDue(.noCommonCipher, now: now) { peer.events.noCommonCipher = theirs }
            }
            guard !peer.events.isEmpty else { continue }
            report(peer, peer.events)
            peer.events = LinkEvents()
        }
        if !events.isEmpty {
            report(nil, events)
            events = LinkEvents()
        }
    }

    /// A handshake from `source` opened with a key no peer has: reported once a minute at
    /// most, whoever sends them.
    func noteStranger(_ key: [UInt8], from source: EndpointAddress, now: Moment) {
        guard lastStrangerReport.map({ now.since($0) >= Peer.keyWarningInterval }) ?? true,
              let publicKey = try? PublicKey(bytes: key) else { return }
        lastStrangerReport = now
        events.strangerKey = publicKey
        events.strangerAddress = source
    }

    /// Notes a refused claim of a peer on `address` for the log, once a minute per address
    /// and as many per turn as `LinkEvents` holds.
    func noteRefusedClaim(_ address: MACAddress, _ reason: DropReason, by peer: Peer, now: Moment) {
        guard peer.events.refusedClaimCount < LinkEvents.refusedClaimCapacity, refusedClaims.shouldReport(address, now: now) else { return }
        bringTimersForward()
        peer.events.refusedClaims[peer.events.refusedClaimCount] = RefusedClaims.Claim(address: address, reason: reason)
        peer.events.refusedClaimCount += 1
    }

    /// Notes peers coming and going and path MTUs settling: on change, never per frame. The
    /// LAN device has carrier while any peer is up.
    func noteTransitions(now: Moment) {
        var anyUp = false
        for peer in peers {
            noteTransitions(of: peer, now: now)
            anyUp = anyUp || peer.wasUp
        }
        if anyUp != anyPeerWasUp {
            anyPeerWasUp = anyUp
            if anyUp != carrierUp {
                carrierUp = anyUp
                if lan.setCarrier(anyUp) != .completed(0) { carrierFailed = true }
            }
        }
    }

    func noteTransitions(of peer: Peer, now: Moment) {
        let up = peer.link.isUp(now: now)
        if up != peer.wasUp {
            peer.wasUp = up
            peer.events.peerUp = up
            if up, !carrierUp {
                // Carrier on before the first frame from the peer is written to the LAN.
                carrierUp = true
                if lan.setCarrier(true) != .completed(0) { carrierFailed = true }
            }
        }
        if !peer.pathMTU.isSearching, peer.link.sendingSession(now: now) != nil, peer.reportedPathMTU != peer.pathMTU.confirmed {
            peer.reportedPathMTU = peer.pathMTU.confirmed
            peer.events.pathMTUSettled = peer.pathMTU.confirmed
        }
    }

    // MARK: - Sending one datagram

    /// Sends a handshake or control datagram at once; a refusal is counted (for `peer` when
    /// there is one).
    @discardableResult
    func sendNow(_ datagram: UnsafeRawBufferPointer, to destination: EndpointAddress, counting peer: Peer?) -> IOResult {
        let result = wan.send(datagram, to: destination)
        switch result {
        case .completed, .tooLarge: break
        case .wouldBlock, .failed:
            if let peer { peer.counters.drop(.sendFailed) } else { counters.drop(.sendFailed) }
        }
        return result
    }
}

/// What the data path saw happen with one peer that belongs in the log, gathered between two
/// `takeEvents` calls (at most a turn of the data plane apart). Fixed size: gathering
/// allocates nothing.
public struct LinkEvents: Sendable {
    static let refusedClaimCapacity = 8

    /// A session completed with this side as the initiator.
    public var establishedAsInitiator = false
    /// A session completed with this side as the responder (the peer's first message came).
    public var establishedAsResponder = false
    /// The peer came up (true) or went down (false); nil when neither.
    public var peerUp: Bool?
    /// The path MTU settled at this size.
    public var pathMTUSettled: Int?
    /// Initiations to the peer went unanswered for a while: unreachable, or keys that do not
    /// match (the peer does not name this site's key, or this site has the peer's wrong).
    public var handshakeGaveUp = false
    /// Handshakes from the peer's address are addressed to another key than this site's: the
    /// peer names a wrong public key for this site.
    public var addressedToAnotherKey = false
    /// The peer's responses do not authenticate: the pre-shared keys differ.
    public var responseNotAuthenticated = false
    /// The peer's handshake authenticated, but its cipher offer (this) shares no transport
    /// cipher with this gateway's `cipher`.
    public var noCommonCipher: CipherOffer?
    /// An initiation that opened carried this public key, which no peer has: if it is one of
    /// the peers, this site names a wrong key for it. Reported with no peer.
    public var strangerKey: PublicKey?
    public var strangerAddress: EndpointAddress?
    /// Claims of the peer on addresses of this LAN that were refused: the first
    /// `refusedClaimCount` are set.
    public var refusedClaims = InlineArray<8, RefusedClaims.Claim>(repeating: RefusedClaims.Claim(address: .broadcast, reason: .macConflict))
    public var refusedClaimCount = 0

    public init() {}

    /// Nothing to log.
    public var isEmpty: Bool {
        !establishedAsInitiator && !establishedAsResponder && peerUp == nil && pathMTUSettled == nil && refusedClaimCount == 0
            && !handshakeGaveUp && !addressedToAnotherKey && !responseNotAuthenticated && noCommonCipher == nil && strangerKey == nil
    }
}
