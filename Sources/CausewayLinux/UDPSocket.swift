import CausewayCore
import CLinuxShim
import Glibc

/// The one UDP socket of a daemon: non-blocking, batch I/O with recvmmsg and sendmmsg.
public final class UDPSocket: @unchecked Sendable {
    public let descriptor: Int32
    public let family: Int32

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
            // Until Causeway splits frames itself, a datagram larger than the path is
            // fragmented by the kernel rather than refused (docs/protocol.md, "MTU").
            try setOption(Int32(IPPROTO_IPV6), IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DONT, "IPV6_MTU_DISCOVER")
        } else {
            try setOption(Int32(IPPROTO_IP), IP_MTU_DISCOVER, IP_PMTUDISC_DONT, "IP_MTU_DISCOVER")
        }
        // Room for bursts while the data-plane thread is busy with the other direction.
        try? setOption(SOL_SOCKET, SO_RCVBUF, 4 << 20, "SO_RCVBUF")
        try? setOption(SOL_SOCKET, SO_SNDBUF, 4 << 20, "SO_SNDBUF")
        var address = SocketAddress(endpoint, family: family)
        let result = withUnsafePointer(to: &address.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, address.length) }
        }
        guard result == 0 else { throw SystemCallError("bind", "UDP \(endpoint)") }
    }

    private func setOption(_ level: Int32, _ option: Int32, _ value: Int32, _ name: String) throws {
        var value = value
        guard setsockopt(descriptor, level, option, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SystemCallError("setsockopt(\(name))", "UDP socket")
        }
    }

    /// Receives up to `batch.capacity` datagrams without blocking; returns how many.
    public func receive(into batch: DatagramBatch) throws -> Int {
        for index in 0..<batch.capacity { batch.resetHeader(index) }
        let count = retryingInterrupts { cw_recvmmsg(descriptor, batch.headers, UInt32(batch.capacity), Int32(MSG_DONTWAIT)) }
        if count >= 0 { return Int(count) }
        if errno == EAGAIN || errno == EWOULDBLOCK { return 0 }
        throw SystemCallError("recvmmsg", "UDP socket")
    }

    /// Sends the first `count` prepared slots; returns how many the kernel took. A datagram
    /// the kernel refuses is skipped (the caller counts the shortfall as dropped).
    public func send(_ batch: DatagramBatch, count: Int) -> Int {
        var sent = 0
        var next = 0
        while next < count {
            let result = retryingInterrupts {
                cw_sendmmsg(descriptor, batch.headers + next, UInt32(count - next), Int32(MSG_DONTWAIT))
            }
            if result > 0 {
                sent += Int(result)
                next += Int(result)
            } else if errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS {
                break
            } else {
                next += 1
            }
        }
        return sent
    }

    /// Sends one datagram (handshakes, keepalives: never on the bulk path).
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, to destination: SocketAddress) -> Bool {
        var address = destination
        let length = address.length
        let result = withUnsafePointer(to: &address.storage) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                retryingInterrupts { sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), target, length) }
            }
        }
        return result == bytes.count
    }
}
