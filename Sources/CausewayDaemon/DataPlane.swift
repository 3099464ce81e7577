import CausewayCore
import CausewayLinux
import Foundation
import Glibc
import Logging
import Synchronization

/// The thread that moves frames: it alone owns the TAP, the UDP socket, the MAC table, the
/// link state and the counters. Frames move in batches through buffers allocated once at
/// start; nothing on the per-frame path logs, locks or creates a Task. The control plane
/// talks to it through an eventfd and takes copies of its state on request.
final class DataPlane: @unchecked Sendable {
    static let batchSize = 64
    /// Large enough for the biggest datagram and frame the link carries.
    static let slotSize = 1 << 14
    /// Batches taken from one descriptor before the other gets its turn.
    static let batchesPerTurn = 8

    private let configuration: Configuration
    private let tap: TAPDevice
    private let socket: UDPSocket
    private let logger: Logger
    private let wakeup: EventFD

    // Owned by the data-plane thread alone once it runs.
    private var link: PeerLink
    private var forwarder: Forwarder
    private var counters = Counters()
    private var peerAddress: SocketAddress
    private let sendBatch: DatagramBatch
    private let receiveBatch: DatagramBatch
    private let frameBuffer: UnsafeMutableRawBufferPointer
    private let controlBuffer: UnsafeMutableRawBufferPointer
    private var lastSweep = Moment.zero
    private var wasUp = false

    // Shared with the control plane.
    private let stopRequested = Atomic<Bool>(false)
    private let snapshotRequested = Atomic<Bool>(false)
    private let published = Mutex<(generation: UInt64, snapshot: StatusSnapshot?)>((0, nil))
    private let finished = DispatchSemaphore(value: 0)

    init(configuration: Configuration, psk: PreSharedKey, tap: TAPDevice, socket: UDPSocket, logger: Logger) throws {
        self.configuration = configuration
        self.tap = tap
        self.socket = socket
        self.logger = logger
        wakeup = try EventFD()
        link = PeerLink(psk: psk, timing: LinkTiming(keepaliveInterval: configuration.keepaliveInterval))
        forwarder = Forwarder(table: MACTable(capacity: configuration.macTableSize, agingTime: configuration.macAgingTime))
        peerAddress = SocketAddress(configuration.peer, family: socket.family)
        sendBatch = DatagramBatch(capacity: Self.batchSize, slotSize: Self.slotSize)
        receiveBatch = DatagramBatch(capacity: Self.batchSize, slotSize: Self.slotSize)
        frameBuffer = .allocate(byteCount: Self.slotSize, alignment: 16)
        controlBuffer = .allocate(byteCount: 256, alignment: 16)
    }

    deinit {
        frameBuffer.deallocate()
        controlBuffer.deallocate()
    }

    func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "causeway-dataplane"
        thread.start()
    }

    /// Stops the thread and waits for it to leave its loop.
    func stop() {
        stopRequested.store(true, ordering: .releasing)
        wakeup.signal()
        finished.wait()
    }

    /// A fresh copy of the data plane's state, or nil when the thread does not answer in
    /// time. Blocks the calling thread (the control thread), never the data plane.
    func snapshot(timeout: Duration = .seconds(2)) -> StatusSnapshot? {
        let before = published.withLock { $0.generation }
        snapshotRequested.store(true, ordering: .releasing)
        wakeup.signal()
        let deadline = Clock.monotonic() + timeout
        while Clock.monotonic() < deadline {
            let (generation, snapshot) = published.withLock { ($0.generation, $0.snapshot) }
            if generation != before { return snapshot }
            usleep(200)
        }
        return nil
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
            let wait = link.nextDeadline(now: now).since(now)
            let timeout = Int32(min(max(wait.secondsValue * 1000, 1), 1000))
            _ = poll(&descriptors, nfds_t(descriptors.count), timeout)
            now = Clock.monotonic()

            if descriptors[0].revents != 0 {
                wakeup.drain()
            }
            if snapshotRequested.exchange(false, ordering: .acquiringAndReleasing) {
                publishSnapshot(now: now)
            }
            if descriptors[1].revents != 0 {
                receiveFromPeer(now: now)
            }
            if descriptors[2].revents != 0 {
                forwardFromLAN(now: now)
            }
        }
        publishSnapshot(now: Clock.monotonic())
    }

    private func serviceTimers(now: Moment) {
        let due = link.timersDue(now: now, wallClock: Clock.wall(), counters: &counters)
        if let initiation = due.initiation {
            initiation.withUnsafeBytes { _ = socket.send($0, to: peerAddress) }
        }
        if due.keepalive {
            sendControl(.keepalive, stamp: now.nanoseconds, now: now)
        }
        if now.since(lastSweep) >= .seconds(1) {
            lastSweep = now
            forwarder.removeExpired(now: now)
        }
        let up = link.isUp(now: now)
        if up != wasUp {
            wasUp = up
            if up {
                logger.notice("peer up", metadata: ["peer": "\(peerAddress)"])
            } else {
                logger.warning("peer down: no authenticated message for \(link.timing.peerDownAfter)", metadata: ["peer": "\(peerAddress)"])
            }
        }
    }

    // MARK: - LAN to WAN

    private func forwardFromLAN(now: Moment) {
        for _ in 0..<Self.batchesPerTurn {
            var prepared = 0
            var read = 0
            while read < Self.batchSize {
                let slot = sendBatch.buffer(prepared)
                let frame = UnsafeMutableRawBufferPointer(rebasing: slot[WireFormat.dataHeaderLength..<(slot.count - WireFormat.tagLength)])
                guard let length = try? tap.read(into: frame) else { break }
                read += 1
                if prepare(frame: UnsafeRawBufferPointer(rebasing: frame[0..<length]), in: slot, now: now) {
                    prepared += 1
                }
            }
            if prepared > 0 {
                let sent = socket.send(sendBatch, count: prepared)
                counters.framesToPeer &+= UInt64(sent)
                for _ in sent..<prepared { counters.drop(.sendFailed) }
            }
            if read < Self.batchSize { return }
        }
    }

    /// Decides for one frame read from the TAP and, if it crosses, seals it in place into
    /// `slot`. Returns whether the slot now holds a datagram to send.
    @inline(__always)
    private func prepare(frame: UnsafeRawBufferPointer, in slot: UnsafeMutableRawBufferPointer, now: Moment) -> Bool {
        counters.framesFromLAN &+= 1
        counters.bytesFromLAN &+= UInt64(frame.count)
        guard let header = EthernetHeader(frame: frame) else {
            counters.drop(.malformed)
            return false
        }
        switch forwarder.frameFromLAN(header, now: now, counters: &counters) {
        case .suppress:
            counters.suppressedLocal &+= 1
            return false
        case .flood:
            counters.flooded &+= 1
        case .sendToPeer:
            break
        }
        guard let session = link.sendingSession(now: now) else {
            counters.drop(.noSession)
            return false
        }
        guard let length = session.seal(.data, networkID: configuration.networkID, payload: frame, into: slot) else {
            counters.drop(.oversized)
            return false
        }
        sendBatch.prepare(sendBatchIndex(of: slot), length: length, to: peerAddress)
        counters.bytesToPeer &+= UInt64(length)
        return true
    }

    @inline(__always)
    private func sendBatchIndex(of slot: UnsafeMutableRawBufferPointer) -> Int {
        (slot.baseAddress! - sendBatch.buffer(0).baseAddress!) / Self.slotSize
    }

    // MARK: - WAN to LAN

    private func receiveFromPeer(now: Moment) {
        for _ in 0..<Self.batchesPerTurn {
            guard let count = try? socket.receive(into: receiveBatch), count > 0 else { return }
            for index in 0..<count {
                handle(datagram: receiveBatch.datagram(index), from: receiveBatch.source(index), now: now)
            }
            if count < Self.batchSize { return }
        }
    }

    @inline(__always)
    private func handle(datagram: UnsafeRawBufferPointer, from source: SocketAddress, now: Moment) {
        guard let type = WireFormat.messageType(of: datagram) else {
            counters.drop(.malformed)
            return
        }
        switch type {
        case .handshakeInitiation:
            if let response = link.receiveInitiation(datagram, now: now, counters: &counters) {
                response.withUnsafeBytes { _ = socket.send($0, to: source) }
            }
        case .handshakeResponse:
            if link.receiveResponse(datagram, now: now, counters: &counters) {
                roam(to: source)
                logger.info("session established", metadata: ["peer": "\(peerAddress)", "role": "initiator"])
                // Confirms the new session to the responder, which waits for a first message.
                sendControl(.keepalive, stamp: now.nanoseconds, now: now)
            }
        case .data:
            guard let opened = open(datagram, type: type, from: source, now: now) else { return }
            guard opened.networkID == configuration.networkID.rawValue else {
                counters.drop(.unknownNetwork)
                return
            }
            deliver(frame: UnsafeRawBufferPointer(rebasing: frameBuffer[0..<opened.payloadLength]), now: now)
        case .control:
            guard let opened = open(datagram, type: type, from: source, now: now) else { return }
            handleControl(UnsafeRawBufferPointer(rebasing: frameBuffer[0..<opened.payloadLength]), now: now)
        }
    }

    @inline(__always)
    private func open(_ datagram: UnsafeRawBufferPointer, type: WireFormat.MessageType, from source: SocketAddress, now: Moment) -> Session.Opened? {
        let established = counters.sessionsEstablished
        guard let opened = link.receiveTransport(datagram, type: type, now: now, into: frameBuffer, counters: &counters) else {
            return nil
        }
        roam(to: source)
        if counters.sessionsEstablished != established {
            logger.info("session established", metadata: ["peer": "\(peerAddress)", "role": "responder"])
        }
        return opened
    }

    @inline(__always)
    private func deliver(frame: UnsafeRawBufferPointer, now: Moment) {
        counters.framesFromPeer &+= 1
        counters.bytesFromPeer &+= UInt64(frame.count)
        guard let header = EthernetHeader(frame: frame) else {
            counters.drop(.malformed)
            return
        }
        forwarder.frameFromPeer(header, peer: link.peerID, now: now, counters: &counters)
        if tap.write(frame) {
            counters.framesToLAN &+= 1
            counters.bytesToLAN &+= UInt64(frame.count)
        } else {
            counters.drop(.sendFailed)
        }
    }

    /// An authenticated message from the peer moves its address: the peer may have roamed
    /// behind a new NAT mapping.
    @inline(__always)
    private func roam(to source: SocketAddress) {
        if source != peerAddress { peerAddress = source }
    }

    // MARK: - Control messages

    private func handleControl(_ payload: UnsafeRawBufferPointer, now: Moment) {
        guard payload.count >= 9, let kind = ControlKind(rawValue: payload[0]) else {
            counters.drop(.malformed)
            return
        }
        let stamp = payload.loadBigEndianUInt64(at: 1)
        switch kind {
        case .keepalive:
            counters.keepalivesReceived &+= 1
            sendControl(.keepaliveReply, stamp: stamp, now: now)
        case .keepaliveReply:
            link.keepaliveReplyReceived(sentAt: Moment(nanoseconds: stamp), now: now)
        }
    }

    private func sendControl(_ kind: ControlKind, stamp: UInt64, now: Moment) {
        guard let session = link.sendingSession(now: now) else { return }
        let payload = UnsafeMutableRawBufferPointer(rebasing: controlBuffer[128..<137])
        payload[0] = kind.rawValue
        payload.storeBytes(of: stamp.bigEndian, toByteOffset: 1, as: UInt64.self)
        guard let length = session.seal(.control, payload: UnsafeRawBufferPointer(payload), into: UnsafeMutableRawBufferPointer(rebasing: controlBuffer[0..<128])) else {
            return
        }
        if socket.send(UnsafeRawBufferPointer(rebasing: controlBuffer[0..<length]), to: peerAddress) {
            if kind == .keepalive { counters.keepalivesSent &+= 1 }
        } else {
            counters.drop(.sendFailed)
        }
    }

    private func publishSnapshot(now: Moment) {
        let snapshot = StatusSnapshot(link: link, endpoint: "\(peerAddress)", table: forwarder.table, counters: counters, now: now)
        published.withLock { $0 = ($0.generation &+ 1, snapshot) }
    }
}

extension UnsafeRawBufferPointer {
    @inline(__always)
    fileprivate func loadBigEndianUInt64(at offset: Int) -> UInt64 {
        UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}
