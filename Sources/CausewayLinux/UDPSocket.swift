import CausewayCore
import CLinuxShim
import Glibc

/// The one UDP socket of a daemon: non-blocking, batch I/O with recvmmsg and sendmmsg.
public final class UDPSocket: @unchecked Sendable {
    public let descriptor: Int32
    public let family: Int32
    /// Whether batches of equal datagrams leave as one send the kernel cuts (UDP GSO): one
    /// trip through the IP stack for many datagrams.
    public private(set) var segmentsSends = false

    public init(binding endpoint: SocketEndpoint) throws {
        family = endpoint.isIPv6 ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError("socket", "UDP \(endpoint)") }
        descriptor = fd
        do {
            try configure(endpoint)
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(descriptor) }

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

    /// Asks the kernel to hand over runs of datagrams from one sender as one buffer (UDP
    /// GRO): one trip through the stack for many. Received batches then need slots of 64
    /// KiB. Returns whether the kernel will.
    public func coalesceReceives() -> Bool {
        cw_udp_enable_gro(descriptor) != 0
    }

    private func setOption(_ level: Int32, _ option: Int32, _ value: Int32, _ name: String) throws {
        var value = value
        guard setsockopt(descriptor, level, option, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SystemCallError("setsockopt(\(name))", "UDP socket")
        }
    }

    /// Receives up to `batch.capacity` buffers without blocking (with UDP GRO each may hold
    /// several datagrams: `DatagramBatch.forEachDatagram`); returns how many.
    public func receive(into batch: DatagramBatch) throws -> Int {
        for index in 0..<batch.capacity { batch.prepareToReceive(index) }
        let count = retryingInterrupts { cw_recvmmsg(descriptor, batch.headers, UInt32(batch.capacity), Int32(MSG_DONTWAIT)) }
        if count >= 0 { return Int(count) }
        if errno == EAGAIN || errno == EWOULDBLOCK { return 0 }
        throw SystemCallError("recvmmsg", "UDP socket")
    }

    /// What became of a batch handed to the kernel.
    public struct BatchResult: Sendable {
        public var sent = 0
        public var failed = 0
        /// The length of a datagram refused as larger than the device takes (EMSGSIZE).
        public var tooLargeLength: Int?
    }

    /// Sends the first `count` prepared datagrams of `batch` without blocking; a datagram
    /// the kernel refuses is skipped (the caller counts it as dropped).
    public func send(_ batch: DatagramBatch, count: Int) -> BatchResult {
        var result = BatchResult()
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
    private func sendEach(_ batch: DatagramBatch, slots: Range<Int>, into result: inout BatchResult) {
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

    public enum SendResult: Sendable, Equatable {
        case sent
        /// Larger than the device takes (EMSGSIZE): never fragmented, refused.
        case tooLarge
        case failed
    }

    /// Sends one datagram (handshakes, keepalives, probes: never on the bulk path).
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, to destination: SocketAddress) -> SendResult {
        var address = destination
        let length = address.length
        let result = withUnsafePointer(to: &address.storage) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                retryingInterrupts { sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), target, length) }
            }
        }
        if result == bytes.count { return .sent }
        return result < 0 && errno == EMSGSIZE ? .tooLarge : .failed
    }
}
