import CausewayCore

/// A site's LAN in memory for the fuzz targets: frames a target queues are what the data
/// path reads (as from the TAP); what it writes is counted and forgotten, so nothing piles up
/// across millions of inputs.
public final class FuzzFrameDevice: FrameDevice {
    public let acceptsUDPSegmentation = true
    private var inbound: [(header: [UInt8], frame: [UInt8])] = []
    public private(set) var framesWritten = 0

    public init() {}

    /// Queues `frame` behind the virtio-net header `header` (cut or zero-padded to its length).
    public func inject(_ frame: some Collection<UInt8>, header: some Collection<UInt8>) {
        var fullHeader = Array(header.prefix(VirtioNetHeader.length))
        fullHeader += repeatElement(0, count: VirtioNetHeader.length - fullHeader.count)
        inbound.append((fullHeader, Array(frame)))
    }

    /// Forgets frames not read yet.
    public func reset() { inbound.removeAll(keepingCapacity: true) }

    public func read(into frame: UnsafeMutableRawBufferPointer, header: UnsafeMutableRawBufferPointer) -> IOResult {
        guard !inbound.isEmpty else { return .wouldBlock }
        let (virtio, bytes) = inbound.removeFirst()
        virtio.withUnsafeBytes { header.copyMemory(from: $0) }
        // Like readv: what does not fit is cut off, and the frame's whole length returned.
        bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: frame[0..<min(bytes.count, frame.count)]).copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<min(bytes.count, frame.count)])) }
        return .completed(bytes.count)
    }

    public func write(_ frame: UnsafeRawBufferPointer, header: UnsafeRawBufferPointer?) -> IOResult {
        framesWritten &+= 1
        return .completed(frame.count + VirtioNetHeader.length)
    }

    public func setCarrier(_ on: Bool) -> IOResult { .completed(0) }
}

/// A UDP socket in memory for the fuzz targets. What it sends goes to `peer`'s queue when
/// one is set (and dropped when larger than a 1500-byte path, as MemoryNetwork's path does,
/// so the path MTU search settles); without a peer it is dropped.
public final class FuzzSocket: DatagramSocket {
    /// Headers the WAN adds to a datagram: IPv4 and UDP.
    static let headerOverhead = 28
    static let pathMTU = 1500

    public let address: EndpointAddress
    /// Weak: the two sockets of a link name each other, and a link is replaced many times.
    public weak var peer: FuzzSocket?
    public let sendSlotCount = 64
    public let receiveBatchCapacity = 64
    private let slots: UnsafeMutableRawBufferPointer
    private var prepared: [(length: Int, destination: EndpointAddress)]
    private var inbound: [(datagram: [UInt8], source: EndpointAddress)] = []

    public init(address: EndpointAddress) {
        self.address = address
        slots = .allocate(byteCount: sendSlotCount * DataPath.sendSlotSize, alignment: 16)
        prepared = Array(repeating: (0, address), count: sendSlotCount)
    }

    deinit { slots.deallocate() }

    /// Queues `datagram` as received from `source`.
    public func enqueue(_ datagram: some Collection<UInt8>, from source: EndpointAddress) {
        inbound.append((Array(datagram), source))
    }

    /// Forgets datagrams not received yet.
    public func reset() { inbound.removeAll(keepingCapacity: true) }

    public func sendSlot(_ slot: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: slots[(slot * DataPath.sendSlotSize)..<((slot + 1) * DataPath.sendSlotSize)])
    }

    public func prepare(_ slot: Int, length: Int, to destination: EndpointAddress) {
        prepared[slot] = (length, destination)
    }

    public func flush(_ count: Int) -> BatchSendResult {
        for slot in 0..<count {
            let (length, destination) = prepared[slot]
            _ = send(UnsafeRawBufferPointer(rebasing: sendSlot(slot)[0..<length]), to: destination)
        }
        return BatchSendResult(sent: count)
    }

    public func send(_ datagram: UnsafeRawBufferPointer, to destination: EndpointAddress) -> IOResult {
        if let peer, datagram.count + Self.headerOverhead <= Self.pathMTU {
            peer.enqueue(datagram, from: address)
        }
        return .completed(datagram.count)
    }

    public func receive(_ body: (UnsafeRawBufferPointer, EndpointAddress) -> Void) -> IOResult {
        guard !inbound.isEmpty else { return .wouldBlock }
        let batch = inbound.prefix(receiveBatchCapacity)
        inbound.removeFirst(batch.count)
        for (datagram, source) in batch {
            datagram.withUnsafeBytes { body($0, source) }
        }
        return .completed(batch.count)
    }
}
