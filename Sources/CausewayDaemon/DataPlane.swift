import CausewayCore
import CausewayLinux
import Foundation
import Glibc
import Logging
import Synchronization

/// The thread that moves frames: it alone owns the TAP, the UDP socket, the MAC table, the
/// link and path state and the counters. Frames move in batches through buffers allocated
/// once at start; nothing on the per-frame path logs, locks or creates a Task. The control
/// plane talks to it through an eventfd and takes copies of its state on request.
///
/// The loop and timers are here; DataPlane+LAN.swift sends frames to the peer,
/// DataPlane+WAN.swift takes datagrams from it, DataPlane+Control.swift keeps the link.
final class DataPlane: @unchecked Sendable {
    static let batchSize = 64
    /// Large enough for the biggest datagram and frame the link carries.
    static let slotSize = 1 << 14
    /// The largest frame the TAP hands over with segmentation offload (64 KiB of IP packet,
    /// Ethernet and VLAN headers), and a send slot that holds it with the data header and tag.
    static let largestLANFrame = (1 << 16) + 64
    static let sendSlotSize = largestLANFrame + WireFormat.dataOverhead
    /// A received slot holds, with UDP GRO, up to 64 KiB of datagrams back to back.
    static let coalescedSlotSize = 1 << 16
    /// Batches taken from one descriptor before the other gets its turn.
    static let batchesPerTurn = 8

    let configuration: Configuration
    let tap: TAPDevice
    let socket: UDPSocket
    let logger: Logger
    private let wakeup: EventFD

    // Owned by the data-plane thread alone once it runs.
    var link: PeerLink
    var forwarder: Forwarder
    var pathMTU: PathMTUDiscovery
    let reassembler = Reassembler()
    let coalescer = TCPCoalescer()
    var counters = Counters()
    var peerAddress: SocketAddress
    let sendBatch: DatagramBatch
    let receiveBatch: DatagramBatch
    /// A frame from the peer, decrypted.
    let frameBuffer: UnsafeMutableRawBufferPointer
    /// A frame from the LAN too large for one datagram, while it is cut into fragments.
    let oversizedFrame: UnsafeMutableRawBufferPointer
    /// One fragment's plaintext: its header, then its piece of frame.
    let fragmentBuffer: UnsafeMutableRawBufferPointer
    let controlBuffer: UnsafeMutableRawBufferPointer
    let controlPayload: UnsafeMutableRawBufferPointer
    /// The virtio-net header of the frame just read from the TAP.
    let lanHeader: UnsafeMutableRawBufferPointer
    /// A large TCP frame from the TAP, while it is cut into segments.
    let lanFrame: UnsafeMutableRawBufferPointer
    var nextFrameID: UInt32 = 0
    private var lastSweep = Moment.zero
    private var wasUp = false
    private var reportedPathMTU: Int?

    // Shared with the control plane.
    private let stopRequested = Atomic<Bool>(false)
    private let snapshotRequested = Atomic<Bool>(false)
    private let macTableRequested = Atomic<Bool>(false)
    private let published = Mutex<(generation: UInt64, snapshot: StatusSnapshot?)>((0, nil))
    private var thread: NamedThread?

    init(configuration: Configuration, identity: SiteIdentity, tap: TAPDevice, socket: UDPSocket, logger: Logger) throws {
        self.configuration = configuration
        self.tap = tap
        self.socket = socket
        self.logger = logger
        wakeup = try EventFD()
        link = PeerLink(identity: identity, timing: LinkTiming(keepaliveInterval: configuration.keepaliveInterval))
        forwarder = Forwarder(table: MACTable(capacity: configuration.macTableSize, agingTime: configuration.macAgingTime))
        peerAddress = SocketAddress(configuration.peer, family: socket.family)
        pathMTU = PathMTUDiscovery(overIPv6: configuration.peer.isIPv6)
        sendBatch = DatagramBatch(capacity: Self.batchSize, slotSize: Self.sendSlotSize)
        receiveBatch = DatagramBatch(capacity: Self.batchSize, slotSize: socket.coalesceReceives() ? Self.coalescedSlotSize : Self.slotSize)
        frameBuffer = .allocate(byteCount: Self.slotSize, alignment: 16)
        oversizedFrame = .allocate(byteCount: Self.slotSize, alignment: 16)
        fragmentBuffer = .allocate(byteCount: Self.slotSize, alignment: 16)
        controlBuffer = .allocate(byteCount: Self.slotSize, alignment: 16)
        controlPayload = .allocate(byteCount: Self.slotSize, alignment: 16)
        lanHeader = .allocate(byteCount: VirtioNetHeader.length, alignment: 8)
        lanFrame = .allocate(byteCount: Self.largestLANFrame, alignment: 16)
        // Without offloads (an old kernel) the TAP hands over plain frames, which work too.
        _ = tap.enableOffloads()
    }

    deinit {
        for buffer in [frameBuffer, oversizedFrame, fragmentBuffer, controlBuffer, controlPayload, lanHeader, lanFrame] {
            buffer.deallocate()
        }
    }

    func start() {
        thread = NamedThread(name: "causeway-dataplane") { [self] in run() }
    }

    /// Stops the thread and waits for it to leave its loop.
    func stop() {
        stopRequested.store(true, ordering: .releasing)
        wakeup.signal()
        thread?.join()
    }

    /// A fresh copy of the data plane's state, or nil when the thread does not answer in
    /// time. Blocks the calling thread (the control thread), never the data plane. The MAC
    /// table is copied only when `includingMACTable` (for `macs` and `explain`).
    func snapshot(timeout: Duration = .seconds(2), includingMACTable: Bool = false) -> StatusSnapshot? {
        var before = published.withLock { $0.generation }
        requestSnapshot(includingMACTable: includingMACTable)
        let deadline = Clock.monotonic() + timeout
        while Clock.monotonic() < deadline {
            let (generation, snapshot) = published.withLock { ($0.generation, $0.snapshot) }
            if generation != before {
                guard includingMACTable, snapshot?.table == nil else { return snapshot }
                // Another caller's request was served first, without the table: ask again.
                before = generation
                requestSnapshot(includingMACTable: true)
            }
            usleep(200)
        }
        return nil
    }

    private func requestSnapshot(includingMACTable: Bool) {
        if includingMACTable { macTableRequested.store(true, ordering: .releasing) }
        snapshotRequested.store(true, ordering: .releasing)
        wakeup.signal()
    }

    /// The last state the thread published; after `stop()`, its final state.
    var latestSnapshot: StatusSnapshot? {
        published.withLock { $0.snapshot }
    }

    // MARK: - The loop

    private func run() {
        var descriptors = [
            pollfd(fd: wakeup.descriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: tap.descriptor, events: Int16(POLLIN), revents: 0),
        ]
        while !stopRequested.load(ordering: .acquiring) {
            var now = Clock.monotonic()
            serviceTimers(now: now)
            let wait = nextDeadline(now: now).since(now)
            let timeout = Int32(min(max(wait.secondsValue * 1000, 1), 1000))
            _ = poll(&descriptors, nfds_t(descriptors.count), timeout)
            now = Clock.monotonic()

            if descriptors[0].revents != 0 {
                wakeup.drain()
            }
            if snapshotRequested.exchange(false, ordering: .acquiringAndReleasing) {
                publishSnapshot(now: now, includingMACTable: macTableRequested.exchange(false, ordering: .acquiringAndReleasing))
            }
            if descriptors[1].revents != 0 {
                link.startTurn()
                receiveFromPeer(now: now)
            }
            if descriptors[2].revents != 0 {
                forwardFromLAN(now: now)
            }
        }
        publishSnapshot(now: Clock.monotonic(), includingMACTable: false)
    }

    private func nextDeadline(now: Moment) -> Moment {
        var deadline = link.nextDeadline(now: now)
        if link.sendingSession(now: now) != nil {
            deadline = min(deadline, pathMTU.nextDeadline(now: now, roundTripTime: link.roundTripTime))
        }
        if reassembler.framesInProgress > 0 {
            deadline = min(deadline, now + Reassembler.timeout / 4)
        }
        return deadline
    }

    private func serviceTimers(now: Moment) {
        let due = link.timersDue(now: now, wallClock: Clock.wall(), counters: &counters)
        if let initiation = due.initiation {
            initiation.withUnsafeBytes { _ = socket.send($0, to: peerAddress) }
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
        reportTransitions(now: now)
    }

    /// Logs what an operator wants in the journal: the peer coming and going, the path MTU
    /// settling. Only on change, never per frame.
    private func reportTransitions(now: Moment) {
        let up = link.isUp(now: now)
        if up != wasUp {
            wasUp = up
            if up {
                logger.notice("peer up", metadata: ["peer": "\(peerAddress)"])
            } else {
                logger.warning("peer down: no authenticated message for \(link.timing.peerDownAfter)", metadata: ["peer": "\(peerAddress)"])
            }
        }
        if !pathMTU.isSearching, link.sendingSession(now: now) != nil, reportedPathMTU != pathMTU.confirmed {
            reportedPathMTU = pathMTU.confirmed
            logger.notice("path MTU \(pathMTU.confirmed): frames up to \(pathMTU.largestWholeFrame) bytes cross whole, larger ones as fragments", metadata: ["peer": "\(peerAddress)"])
        }
    }

    func publishSnapshot(now: Moment, includingMACTable: Bool) {
        let snapshot = StatusSnapshot(
            link: link, endpoint: "\(peerAddress)", pathMTU: pathMTU, reassembler: reassembler,
            table: forwarder.table, counters: counters, now: now, includingMACTable: includingMACTable
        )
        published.withLock { $0 = ($0.generation &+ 1, snapshot) }
    }

    /// An authenticated message from the peer moves its address: the peer may have roamed
    /// behind a new NAT mapping.
    @inline(__always)
    func roam(to source: SocketAddress) {
        if source != peerAddress { peerAddress = source }
    }
}
