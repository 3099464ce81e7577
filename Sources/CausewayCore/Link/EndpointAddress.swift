/// A UDP endpoint as plain bytes: an IPv6 address (IPv4 as v4-mapped) and a port. Where a
/// datagram came from and where one goes; the cookie binds to it and the per-source rate
/// limit keys on its address. A value the data path compares and copies without allocating.
public struct EndpointAddress: Hashable, Sendable, CustomStringConvertible {
    /// The 16 address bytes as two big-endian halves.
    public var high: UInt64
    public var low: UInt64
    public var port: UInt16
    /// The interface of an IPv6 link-local address (sin6_scope_id); zero otherwise.
    public var scopeID: UInt32

    public init(high: UInt64, low: UInt64, port: UInt16, scopeID: UInt32 = 0) {
        self.high = high
        self.low = low
        self.port = port
        self.scopeID = scopeID
    }

    /// The address a configured endpoint names.
    public init(_ endpoint: SocketEndpoint) {
        switch endpoint.address {
        case .v4(let bytes):
            let address = bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            self.init(high: 0, low: 0xFFFF_0000_0000 | address, port: endpoint.port)
        case .v6(let bytes):
            let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            self.init(high: high, low: low, port: endpoint.port)
        }
    }

    /// Whether this is an IPv4 address (held v4-mapped: ::ffff:a.b.c.d).
    public var isIPv4: Bool { high == 0 && low >> 32 == 0xFFFF }

    /// The IPv4 address, when this is one.
    public var ipv4: UInt32? { isIPv4 ? UInt32(truncatingIfNeeded: low) : nil }

    /// The endpoint as configuration text writes it; for logs and reports only.
    public var endpoint: SocketEndpoint {
        if let ipv4 {
            return SocketEndpoint(address: .v4((0..<4).map { UInt8(truncatingIfNeeded: ipv4 >> (24 - 8 * $0)) }), port: port)
        }
        let bytes = (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        return SocketEndpoint(address: .v6(bytes), port: port)
    }

    public var description: String { endpoint.description }

    /// The eighteen bytes the cookie is computed over.
    var bytes: [UInt8] {
        withUnsafeBytes(of: (high.bigEndian, low.bigEndian, port.bigEndian)) { Array($0.prefix(18)) }
    }
}
