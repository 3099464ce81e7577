import CausewayCore
import Glibc

/// A sockaddr_in or sockaddr_in6 held by value, so that the data plane can keep the peer's
/// address and compare a datagram's source with it without allocating.
public struct SocketAddress: Sendable, Equatable, CustomStringConvertible {
    public var storage = sockaddr_storage()
    public var length: socklen_t = 0

    public init() {}

    /// `endpoint` as a socket of `family` addresses it: an IPv4 endpoint on an IPv6 socket
    /// becomes a v4-mapped address.
    public init(_ endpoint: SocketEndpoint, family: Int32) {
        self.init()
        switch (endpoint.address, family) {
        case (.v4(let bytes), AF_INET):
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = endpoint.port.bigEndian
            withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: bytes) }
            set(address)
        case (.v4(let bytes), _):
            self = SocketAddress(SocketEndpoint(address: .v6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + bytes), port: endpoint.port), family: AF_INET6)
        case (.v6(let bytes), _):
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = endpoint.port.bigEndian
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: bytes) }
            set(address)
        }
    }

    /// `endpoint` as a socket of `family` addresses it: an IPv4 address on an IPv6 socket
    /// stays v4-mapped.
    public init(_ endpoint: EndpointAddress, family: Int32) {
        self.init()
        if family == AF_INET, let ipv4 = endpoint.ipv4 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = endpoint.port.bigEndian
            address.sin_addr.s_addr = ipv4.bigEndian
            set(address)
        } else {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = endpoint.port.bigEndian
            address.sin6_scope_id = endpoint.scopeID
            withUnsafeMutableBytes(of: &address.sin6_addr) { bytes in
                bytes.storeBytes(of: endpoint.high.bigEndian, toByteOffset: 0, as: UInt64.self)
                bytes.storeBytes(of: endpoint.low.bigEndian, toByteOffset: 8, as: UInt64.self)
            }
            set(address)
        }
    }

    private mutating func set<T>(_ address: T) {
        var address = address
        withUnsafeMutableBytes(of: &storage) { storageBytes in
            withUnsafeBytes(of: &address) { storageBytes.copyMemory(from: $0) }
        }
        length = socklen_t(MemoryLayout<T>.size)
    }

    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        guard lhs.length == rhs.length else { return false }
        return withUnsafeBytes(of: lhs.storage) { left in
            withUnsafeBytes(of: rhs.storage) { right in
                memcmp(left.baseAddress!, right.baseAddress!, Int(lhs.length)) == 0
            }
        }
    }

    public var description: String {
        var host = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var copy = storage
        return withUnsafePointer(to: &copy) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                        var raw = v4.pointee.sin_addr
                        inet_ntop(AF_INET, &raw, &host, socklen_t(host.count))
                        return "\(Self.text(host)):\(UInt16(bigEndian: v4.pointee.sin_port))"
                    }
                case AF_INET6:
                    return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                        var raw = v6.pointee.sin6_addr
                        inet_ntop(AF_INET6, &raw, &host, socklen_t(host.count))
                        return "[\(Self.text(host))]:\(UInt16(bigEndian: v6.pointee.sin6_port))"
                    }
                default:
                    return "(none)"
                }
            }
        }
    }

    /// The address as the handshake's cookie and rate limit see it: 16 bytes (IPv4 as
    /// v4-mapped) and the port.
    public var endpointAddress: EndpointAddress {
        withUnsafeBytes(of: storage) { raw in
            switch Int32(raw.load(fromByteOffset: 0, as: sa_family_t.self)) {
            case AF_INET:
                let port = UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
                let address = UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
                return EndpointAddress(high: 0, low: 0xFFFF_0000_0000 | UInt64(address), port: port)
            case AF_INET6:
                let port = UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
                return EndpointAddress(
                    high: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                    low: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)), port: port,
                    scopeID: raw.loadUnaligned(fromByteOffset: 24, as: UInt32.self)
                )
            default:
                return EndpointAddress(high: 0, low: 0, port: 0)
            }
        }
    }

    private static func text(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
