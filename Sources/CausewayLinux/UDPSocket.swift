import CausewayCore
import CLinuxShim
import Glibc

/// A daemon's UDP socket, one per lane: non-blocking, batch I/O with recvmmsg and sendmmsg,
/// UDP GSO for sends and UDP GRO for receives where the kernel has them. It owns the batches
/// that datagrams are built in and received into, allocated once.
///
/// The sockets of several lanes share the port (SO_REUSEPORT), and a program the kernel runs
/// on each datagram (`steerByLane`) hands it to the lane its sender's lane names. They take
/// no UDP GRO: a NIC's GRO merges a peer's datagrams by address and port alone, so one merge
/// could hold several lanes' datagrams, and all of it would reach one lane.
public final class UDPSocket: @unchecked Sendable {
    /// Datagrams one sendmmsg or recvmmsg call moves at most.
    public static let batchSize = 64
    /// A received slot of one datagram: large enough for the biggest the link sends.
    static let datagramSlotSize = 1 << 14
    /// A received slot with UDP GRO: up to 64 KiB of datagrams back to back.
    static let coalescedSlotSize = 1 << 16

    public let descriptor: Int32
    public let family: Int32
    /// Whether batches of equal datagrams leave as one send the kernel cuts (UDP GSO): one
    /// trip through the IP stack for many datagrams.
    public private(set) var segmentsSends = false
    /// Whether the kernel hands over runs of datagrams from one sender as one buffer (UDP GRO).
    public private(set) var coalescesReceives = false
    let sendBatch: DatagramBatch
    private(set) var receiveBatch: DatagramBatch
    /// The latest destination, converted once: every datagram of a batch goes to the peer.
    private var cachedDestination: (endpoint: EndpointAddress, address: SocketAddress)?

    /// Binds `endpoint`; send slots hold `sendSlotSize` bytes each. `sharingPort`: the port is
    /// one lane's of several, each with a socket bound to it.
    public init(binding endpoint: SocketEndpoint, sendSlotSize: Int, sharingPort: Bool = false) throws {
        family = endpoint.isIPv6 ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError("socket", "UDP \(endpoint)") }
        descriptor = fd
        sendBatch = DatagramBatch(capacity: Self.batchSize, slotSize: sendSlotSize)
        receiveBatch = DatagramBatch(capacity: Self.batchSize, slotSize: Self.datagramSlotSize)
        do {
            if sharingPort, cw_udp_share_port(fd) != 0 { throw SystemCallError("setsockopt(SO_REUSEPORT)", "UDP \(endpoint)") }
            try configure(endpoint)
        } catch {
            close(fd)
            throw error
        }
        coalescesReceives = !sharingPort && cw_udp_enable_gro(descriptor) != 0
        if coalescesReceives {
            receiveBatch = DatagramBatch(capacity: Self.batchSize, slotSize: Self.coalescedSlotSize)
        }
    }

    deinit { close(descriptor) }

    /// Has the kernel hand each datagram for the port to the socket of the lane its sender
    /// sealed it in (the top byte of a transport message's counter, modulo `lanes`), and
    /// every other message to the first socket, lane 0's. The sockets of the port's group
    /// count in the order they were bound, which is the order of the lanes.
    public func steerByLane(lanes: Int) throws {
        typealias Type = WireFormat.MessageType
        let result = cw_udp_steer_by_lane(
            descriptor, UInt32(lanes), UInt32(WireFormat.typeOffset), UInt32(WireFormat.counterOffset),
            UInt32(Type.data.rawValue), UInt32(Type.control.rawValue), UInt32(Type.fragment.rawValue)
        )
        guard result == 0 else { throw SystemCallError("setsockopt(SO_ATTACH_REUSEPORT_CBPF)", "UDP socket") }
    }

    private func configure(_ endpoint: SocketEndpoint) throws {
        if family == AF_INET6 {
            // An unspecified IPv6 listen address also takes IPv4 peers, as v4-mapped addresses.
            try setOption(Int32(IPPROTO_IPV6), IPV6_V6ONLY, endpoint.isUnspecified ? 0 : 1, "IPV6_V6ONLY")
            // Never fragmented by this host; the size comes from Causeway's own path MTU
            // discovery, so the kernel's ICMP-fed path MTU cache is not consulted (PROBE).
            try setOption(Int32(IPPROTO_IPV6), IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE, "IPV6_MTU_DISCOVER")
            try setOption(Int32(IPPROTO_IPV6), IPV6_DONTFRAG, 1, "IPV6_DONTFRAG")
        }
        // For IPv4, and IPv4-mapped peers on an IPv6 socket: the don't-fragment bit, always.
        if family == AF_INET || endpoint.isUnspecified {
            try setOption(Int32(IPPROTO_IP), IP_MTU_DISCOVER, IP_PMTUDISC_PROBE, "IP_MTU_DISCOVER")
        }
        // Room for bursts while the data-plane thread is busy with the other direction.
        try? setOption(SOL_SOCKET, SO_RCVBUF, 4 << 20, "SO_RCVBUF")
        try? setOption(SOL_SOCKET, SO_SNDBUF, 4 << 20, "SO_SNDBUF")
        var address = SocketAddress(endpoint, family: family)
        let result = withUnsafePointer(to: &address.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, address.length) }
        }
        guard result == 0 else { throw SystemCallError("bind", "UDP \(endpoint)") }
        segmentsSends = cw_udp_segmentation_supported(descriptor) != 0
    }

    private func setOption(_ level: Int32, _ option: Int32, _ value: Int32, _ name: String) throws {
        var value = value
        guard setsockopt(descriptor, level, option, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SystemCallError("setsockopt(\(name))", "UDP socket")
        }
    }

    /// Receives up to `batch.capacity` buffers without blocking (with UDP GRO each may hold
    /// several datagrams: `DatagramBatch.forEachDatagram`).
    func receive(into batch: DatagramBatch) -> IOResult {
        // The kernel writes only into the slots it fills (lengths, address, control, flags),
        // so a lone datagram re-prepares one slot, not the batch's 64.
        for index in 0..<batch.slotsToPrepare { batch.prepareToReceive(index) }
        let count = retryingInterrupts { cw_recvmmsg(descriptor, batch.headers, UInt32(batch.capacity), Int32(MSG_DONTWAIT)) }
        guard count >= 0 else {
            // Nothing was written when nothing was there; after another failure, all again.
            let code = errno
            batch.slotsToPrepare = code == EAGAIN || code == EWOULDBLOCK ? 0 : batch.capacity
            return IOResult(failedWith: code)
        }
        batch.slotsToPrepare = Int(count)
        return .completed(Int(count))
    }

    /// Sends the first `count` prepared datagrams of `batch` without blocking; a datagram
    /// the kernel refuses is skipped (the caller counts it as dropped).
    func send(_ batch: DatagramBatch, count: Int) -> BatchSendResult {
        var result = BatchSendResult()
        guard segmentsSends else {
            sendEach(batch, slots: 0..<count, into: &result)
            return result
        }
        let messages = batch.arrangeRuns(count)
        var next = 0
        while next < messages {
            let accepted = Int(retryingInterrupts {
                cw_sendmmsg(descriptor, batch.runs + next, UInt32(messages - next), Int32(MSG_DONTWAIT))
            })
            if accepted > 0 {
                result.sent += batch.runFirstSlot[next + accepted] - batch.runFirstSlot[next]
                next += accepted
                continue
            }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS {
                result.failed += count - batch.runFirstSlot[next]
                break
            }
            // The kernel refuses a whole run for one reason (a segment larger than the device
            // now takes is EINVAL there): sent one by one, each datagram fails or goes alone.
            sendEach(batch, slots: batch.runFirstSlot[next]..<batch.runFirstSlot[next + 1], into: &result)
            next += 1
        }
        return result
    }

    /// Sends `slots` as one datagram each.
    private func sendEach(_ batch: DatagramBatch, slots: Range<Int>, into result: inout BatchSendResult) {
        var next = slots.lowerBound
        while next < slots.upperBound {
            let accepted = retryingInterrupts {
                cw_sendmmsg(descriptor, batch.headers + next, UInt32(slots.upperBound - next), Int32(MSG_DONTWAIT))
            }
            if accepted > 0 {
                result.sent += Int(accepted)
                next += Int(accepted)
                continue
            }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS {
                result.failed += slots.upperBound - next
                return
            }
            // This one datagram was refused; the rest may still go.
            if errno == EMSGSIZE { result.tooLargeLength = batch.preparedLength(next) }
            result.failed += 1
            next += 1
        }
    }

    /// Sends one datagram (handshakes, keepalives, probes: never on the bulk path).
    func send(_ bytes: UnsafeRawBufferPointer, to destination: SocketAddress) -> IOResult {
        var address = destination
        let length = address.length
        let result = withUnsafePointer(to: &address.storage) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                retryingInterrupts { sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), target, length) }
            }
        }
        return result >= 0 ? .completed(result) : IOResult(failedWith: errno)
    }

    /// `endpoint` as this socket addresses it; converted once per new destination.
    @inline(__always)
    func socketAddress(_ endpoint: EndpointAddress) -> SocketAddress {
        if let cached = cachedDestination, cached.endpoint == endpoint { return cached.address }
        let address = SocketAddress(endpoint, family: family)
        cachedDestination = (endpoint, address)
        return address
    }
}

extension UDPSocket: DatagramSocket {
    public var sendSlotCount: Int { sendBatch.capacity }
    public var receiveBatchCapacity: Int { receiveBatch.capacity }

    @inline(__always)
    public func sendSlot(_ slot: Int) -> UnsafeMutableRawBufferPointer { sendBatch.buffer(slot) }

    @inline(__always)
    public func prepare(_ slot: Int, length: Int, to destination: EndpointAddress) {
        sendBatch.prepare(slot, length: length, to: socketAddress(destination))
    }

    public func flush(_ count: Int) -> BatchSendResult { send(sendBatch, count: count) }

    public func send(_ datagram: UnsafeRawBufferPointer, to destination: EndpointAddress) -> IOResult {
        send(datagram, to: socketAddress(destination))
    }

    public func receive(_ body: (_ datagram: UnsafeRawBufferPointer, _ source: EndpointAddress) -> Void) -> IOResult {
        let result = receive(into: receiveBatch)
        guard case .completed(let count) = result else { return result }
        for index in 0..<count {
            let source = receiveBatch.source(index).endpointAddress
            receiveBatch.forEachDatagram(in: index) { body($0, source) }
        }
        return result
    }
}
