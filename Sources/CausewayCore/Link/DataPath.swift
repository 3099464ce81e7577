/// Everything that happens to a frame between the LAN and the peer, and to a datagram
/// between the peer and the LAN: switching, sessions, sealing, fragmentation, path MTU,
/// control messages. It owns the link's state and does its I/O through two small ports (a
/// `FrameDevice` and a `DatagramSocket`), so the same code runs over the TAP and UDP in the
/// daemon and over memory in tests, where two of them are wired back to back.
///
/// One thread drives it, with the current time: `serviceTimers`, then `receiveFromPeer` and
/// `forwardFromLAN` when their descriptors are ready. Buffers are allocated once, here;
/// nothing on the per-frame path allocates, logs or locks. Events an operator wants to read
/// about are collected for `takeEvents`, never logged here.
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
    let answersTooBig: Bool
    public let macHoldTime: Duration
    /// Flooded frames towards the peer, and flooded frames from it towards the LAN.
    var stormToPeer: StormControl
    var stormFromPeer: StormControl
    var refusedClaims = RefusedClaims()

    public internal(set) var link: PeerLink
    public internal(set) var forwarder: Forwarder
    public internal(set) var pathMTU: PathMTUDiscovery
    public let reassembler = Reassembler()
    let coalescer = TCPCoalescer()
    public internal(set) var counters = Counters()
    /// Where the peer is reached now: configured, then wherever authenticated traffic comes from.
    public internal(set) var peerAddress: EndpointAddress

    /// A frame from the peer, decrypted.
    let frameBuffer: UnsafeMutableRawBufferPointer
    /// A frame from the LAN too large for one datagram, while it is cut into fragments.
    let oversizedFrame: UnsafeMutableRawBufferPointer
    /// One fragment's plaintext: its header, then its piece of frame.
    let fragmentBuffer: UnsafeMutableRawBufferPointer
    let controlBuffer: UnsafeMutableRawBufferPointer
    let controlPayload: UnsafeMutableRawBufferPointer
    /// The virtio-net header of the frame just read from the LAN.
    let lanHeader: UnsafeMutableRawBufferPointer
    /// A large TCP frame from the LAN, while it is cut into segments.
    let lanFrame: UnsafeMutableRawBufferPointer
    var nextFrameID: UInt32 = 0
    var events = LinkEvents()
    private var lastSweep = Moment.zero
    private var wasUp = false
    /// The LAN device refused to change its carrier (a kernel before 4.19): frames are then
    /// sent into a tunnel that is down, as before carriers followed the peer.
    public private(set) var carrierFailed = false
    private var reportedPathMTU: Int?

    public init(configuration: Configuration, identity: SiteIdentity, lan: any FrameDevice, wan: any DatagramSocket) {
        // What the frame path assumes of the socket's slots: room for a frame's fragments in
        // one batch, and a frame read into a slot fits `lanFrame` when it must be cut.
        precondition(wan.sendSlotCount >= Reassembler.maximumPieces, "a batch holds every fragment of one frame")
        precondition(wan.sendSlot(0).count == Self.sendSlotSize, "send slots are DataPath.sendSlotSize bytes")
        self.lan = lan
        self.wan = wan
        networkID = configuration.networkID
        answersTooBig = configuration.icmpTooBig
        macHoldTime = configuration.macHoldTime
        stormToPeer = StormControl(rate: configuration.floodRate, burst: configuration.floodBurst)
        stormFromPeer = stormToPeer
        link = PeerLink(identity: identity, timing: LinkTiming(keepaliveInterval: configuration.keepaliveInterval))
        forwarder = Forwarder(table: MACTable(capacity: configuration.macTableSize, agingTime: configuration.macAgingTime))
        peerAddress = EndpointAddress(configuration.peer)
        pathMTU = PathMTUDiscovery(overIPv6: configuration.peer.isIPv6)
        frameBuffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
        oversizedFrame = .allocate(byteCount: Self.bufferSize, alignment: 16)
        fragmentBuffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
        controlBuffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
        controlPayload = .allocate(byteCount: Self.bufferSize, alignment: 16)
        lanHeader = .allocate(byteCount: VirtioNetHeader.length, alignment: 8)
        lanFrame = .allocate(byteCount: Self.largestLANFrame, alignment: 16)
        // Carrier from the start: the first frames the bridge sends start the handshake, and
        // the first ones from the peer are not lost while the kernel turns a port on (it
        // takes a carrier change up to a second to reach the bridge). It goes off only
        // once the peer, having been up, falls silent.
        carrierFailed = lan.setCarrier(true) != .completed(0)
    }

    deinit {
        for buffer in [frameBuffer, oversizedFrame, fragmentBuffer, controlBuffer, controlPayload, lanHeader, lanFrame] {
            buffer.deallocate()
        }
    }

    // MARK: - Timers

    /// When `serviceTimers` next has something to do.
    public func nextDeadline(now: Moment) -> Moment {
        var deadline = link.nextDeadline(now: now)
        if link.sendingSession(now: now) != nil {
            deadline = min(deadline, pathMTU.nextDeadline(now: now, roundTripTime: link.roundTripTime))
        }
        if reassembler.framesInProgress > 0 {
            deadline = min(deadline, now + Reassembler.timeout / 4)
        }
        return deadline
    }

    /// Does what is due: handshake initiations and retries, keepalives, path MTU probes,
    /// reassembly timeouts and MAC aging.
    public func serviceTimers(now: Moment, wallClock: HandshakeTimestamp) {
        let due = link.timersDue(now: now, wallClock: wallClock, counters: &counters)
        if let initiation = due.initiation {
            initiation.withUnsafeBytes { _ = sendNow($0, to: peerAddress) }
        }
        if due.keepalive {
            sendControl(.keepalive, stamp: now.nanoseconds, now: now)
        }
        if link.sendingSession(now: now) != nil {
            probePath(now: now)
        }
        if reassembler.framesInProgress > 0 {
            reassembler.expire(now: now, counters: &counters)
        }
        if now.since(lastSweep) >= .seconds(1) {
            lastSweep = now
            forwarder.removeExpired(now: now)
        }
        noteTransitions(now: now)
    }

    // MARK: - The bridge's own knowledge

    /// This site's bridge saw `address` on a LAN port at `seenAt`: a host of this site, even
    /// if none of its frames ever reached the tunnel. Called once a second, with at most a
    /// table's worth of what the bridge's forwarding database holds.
    public func noteSeenOnLAN(_ address: MACAddress, at seenAt: Moment, now: Moment) {
        forwarder.seenOnLAN(address, at: min(seenAt, now), now: now, counters: &counters)
    }

    // MARK: - Events

    /// What happened since the last call that an operator wants in the log; clears it.
    public func takeEvents(now: Moment) -> LinkEvents {
        noteTransitions(now: now)
        defer { events = LinkEvents() }
        return events
    }

    /// Notes a refused claim of the peer on `address` for the log, once a minute per address
    /// and as many per turn as `LinkEvents` holds.
    func noteRefusedClaim(_ address: MACAddress, _ reason: DropReason, now: Moment) {
        guard events.refusedClaimCount < LinkEvents.refusedClaimCapacity, refusedClaims.shouldReport(address, now: now) else { return }
        events.refusedClaims[events.refusedClaimCount] = RefusedClaims.Claim(address: address, reason: reason)
        events.refusedClaimCount += 1
    }

    /// Notes the peer coming and going and the path MTU settling: on change, never per frame.
    /// The LAN device's carrier follows the peer at once.
    func noteTransitions(now: Moment) {
        let up = link.isUp(now: now)
        if up != wasUp {
            wasUp = up
            events.peerUp = up
            if lan.setCarrier(up) != .completed(0) { carrierFailed = true }
        }
        if !pathMTU.isSearching, link.sendingSession(now: now) != nil, reportedPathMTU != pathMTU.confirmed {
            reportedPathMTU = pathMTU.confirmed
            events.pathMTUSettled = pathMTU.confirmed
        }
    }

    // MARK: - Sending one datagram

    /// Sends a handshake or control datagram at once; a refusal is counted.
    @discardableResult
    func sendNow(_ datagram: UnsafeRawBufferPointer, to destination: EndpointAddress) -> IOResult {
        let result = wan.send(datagram, to: destination)
        switch result {
        case .completed, .tooLarge: break
        case .wouldBlock, .failed: counters.drop(.sendFailed)
        }
        return result
    }

    /// An authenticated message from the peer moves its address: the peer may have roamed
    /// behind a new NAT mapping.
    @inline(__always)
    func roam(to source: EndpointAddress) {
        if source != peerAddress { peerAddress = source }
    }
}

/// What the data path saw happen that belongs in the log, gathered between two
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
    /// Claims of the peer on addresses of this LAN that were refused: the first
    /// `refusedClaimCount` are set.
    public var refusedClaims = InlineArray<8, RefusedClaims.Claim>(repeating: RefusedClaims.Claim(address: .broadcast, reason: .macConflict))
    public var refusedClaimCount = 0

    public init() {}

    /// Nothing to log.
    public var isEmpty: Bool {
        !establishedAsInitiator && !establishedAsResponder && peerUp == nil && pathMTUSettled == nil && refusedClaimCount == 0
    }
}
