/// Where a datagram came from, as plain bytes: an IPv6 address (IPv4 as v4-mapped) and a
/// port. The cookie binds to it and the per-source rate limit keys on its address.
public struct SourceAddress: Hashable, Sendable {
    /// The 16 address bytes as two big-endian halves.
    public var high: UInt64
    public var low: UInt64
    public var port: UInt16

    public init(high: UInt64, low: UInt64, port: UInt16) {
        self.high = high
        self.low = low
        self.port = port
    }

    /// Whether this is an IPv4 address (held v4-mapped: ::ffff:a.b.c.d).
    var isIPv4: Bool { high == 0 && low >> 32 == 0xFFFF }

    /// The eighteen bytes the cookie is computed over.
    var bytes: [UInt8] {
        withUnsafeBytes(of: (high.bigEndian, low.bigEndian, port.bigEndian)) { Array($0.prefix(18)) }
    }
}
