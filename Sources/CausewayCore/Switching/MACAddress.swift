/// A 48-bit IEEE 802 MAC address, stored in the low bits of a UInt64 so that hashing and
/// comparison on the frame path cost one integer operation.
public struct MACAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    /// Six bytes on the wire.
    public static let length = 6

    public init(rawValue: UInt64) {
        self.rawValue = rawValue & 0xFFFF_FFFF_FFFF
    }

    /// Reads six bytes starting at `offset`.
    @inlinable
    public init(bytes: UnsafeRawBufferPointer, offset: Int) {
        // Six bytes: a 32-bit and a 16-bit big-endian word.
        rawValue = UInt64(bytes.loadBigEndian(at: offset, as: UInt32.self)) << 16
            | UInt64(bytes.loadBigEndian(at: offset + 4, as: UInt16.self))
    }

    public init(_ bytes: [UInt8]) {
        precondition(bytes.count == Self.length, "a MAC address has six bytes")
        self = bytes.withUnsafeBytes { MACAddress(bytes: $0, offset: 0) }
    }

    /// Parses six two-digit hex bytes, either case, separated all by ':' or all by '-' (as Windows
    /// and some switches print them): 02:00:5e:10:00:01, 02-00-5E-10-00-01.
    public init?(_ text: some StringProtocol) {
        let separator: Character = text.contains("-") ? "-" : ":"
        let parts = text.split(separator: separator, omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            // Hex digits only: UInt8("+f", radix: 16) would take a sign.
            guard part.count == 2, part.allSatisfy(\.isHexDigit), let byte = UInt8(part, radix: 16) else { return nil }
            bytes.append(byte)
        }
        self.init(bytes)
    }

    public static let broadcast = MACAddress(rawValue: 0xFFFF_FFFF_FFFF)

    /// The group bit: set for broadcast and multicast destinations.
    @inlinable
    public var isGroup: Bool { rawValue & 0x0100_0000_0000 != 0 }

    public var isBroadcast: Bool { self == .broadcast }

    public var bytes: [UInt8] {
        (0..<6).map { UInt8(truncatingIfNeeded: rawValue >> UInt64(40 - 8 * $0)) }
    }

    public var description: String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return byte < 0x10 ? "0" + digits : digits
        }.joined(separator: ":")
    }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.rawValue < rhs.rawValue }

    /// A locally administered unicast address derived from `seed`, so that a device keeps the
    /// same address across restarts without storing it anywhere.
    public static func locallyAdministered(derivedFrom digest: some Sequence<UInt8>) -> MACAddress {
        var bytes = Array(digest.prefix(6))
        precondition(bytes.count == 6, "the digest must have at least six bytes")
        bytes[0] = (bytes[0] & 0xFC) | 0x02
        return MACAddress(bytes)
    }
}
