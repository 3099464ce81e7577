/// The one's-complement sum of IP, ICMP and TCP headers (RFC 1071): the full sum, the sum of
/// the pseudo-header a transport checksum covers, and the incremental update (RFC 1624).
public enum InternetChecksum {
    /// The sum of `bytes` as big-endian 16-bit words, not yet complemented; sums add up.
    @inline(__always)
    public static func sum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        // Words in the machine's byte order, eight bytes at a time as two 32-bit halves (the
        // 64-bit sum cannot overflow for any frame). The one's-complement sum does not care
        // about byte order until the end, where one swap puts it right (RFC 1071, 2(B)).
        // Four independent sums over 32 bytes a round: the adds do not wait on each other, so
        // a segment's checksum takes a quarter of the dependent chain's time.
        var sums: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var index = 0
        while index + 32 <= bytes.count {
            let words = (
                bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self),
                bytes.loadUnaligned(fromByteOffset: index + 16, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: index + 24, as: UInt64.self)
            )
            sums.0 &+= (words.0 & 0xFFFF_FFFF) &+ (words.0 >> 32)
            sums.1 &+= (words.1 & 0xFFFF_FFFF) &+ (words.1 >> 32)
            sums.2 &+= (words.2 & 0xFFFF_FFFF) &+ (words.2 >> 32)
            sums.3 &+= (words.3 & 0xFFFF_FFFF) &+ (words.3 >> 32)
            index += 32
        }
        var sum = sums.0 &+ sums.1 &+ sums.2 &+ sums.3
        while index + 8 <= bytes.count {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            sum &+= (word & 0xFFFF_FFFF) &+ (word >> 32)
            index += 8
        }
        if index + 4 <= bytes.count {
            sum &+= UInt64(bytes.loadUnaligned(fromByteOffset: index, as: UInt32.self))
            index += 4
        }
        if index + 2 <= bytes.count {
            sum &+= UInt64(bytes.loadUnaligned(fromByteOffset: index, as: UInt16.self))
            index += 2
        }
        if index < bytes.count {
            // A lone last byte is the first byte of a word padded with zero.
            var last: UInt16 = 0
            withUnsafeMutableBytes(of: &last) { $0[0] = bytes[index] }
            sum &+= UInt64(last)
        }
        return UInt64(UInt16(bigEndian: folded(sum)))
    }

    @inline(__always)
    static func folded(_ sum: UInt64) -> UInt16 {
        var sum = sum
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return UInt16(sum)
    }

    /// The checksum field for a sum: folded to 16 bits and complemented.
    @inline(__always)
    public static func fold(_ sum: UInt64) -> UInt16 {
        ~folded(sum)
    }

    /// The checksum of `bytes`, ready to store.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        fold(sum(bytes))
    }

    /// The sum of the pseudo-header that TCP, UDP and ICMPv6 checksums cover: the IP
    /// packet's addresses (at `networkOffset` in `frame`), the protocol and the length of
    /// the transport header and payload.
    @inline(__always)
    public static func pseudoHeaderSum(
        _ frame: UnsafeRawBufferPointer, networkOffset: Int, isIPv6: Bool, protocol: UInt8, length: Int
    ) -> UInt64 {
        let addresses = isIPv6
            ? (networkOffset + IPv6Header.sourceOffset)..<(networkOffset + IPv6Header.destinationOffset + IPv6Header.addressLength)
            : (networkOffset + IPv4Header.sourceOffset)..<(networkOffset + IPv4Header.destinationOffset + IPv4Header.addressLength)
        return sum(UnsafeRawBufferPointer(rebasing: frame[addresses])) + UInt64(`protocol`) + UInt64(length)
    }

    /// RFC 1624's incremental update of the checksum stored at `position` when a 16-bit word
    /// of the data it covers changes from `old` to `new`: HC' = ~(~HC + ~m + m'). The word
    /// starts at an even offset of the checksummed data (`offsetInSegment`), or an odd one,
    /// whose bytes land swapped in the one's-complement sum.
    public static func update(
        _ frame: UnsafeMutableRawBufferPointer, at position: Int, old: UInt16, new: UInt16, alignedWith offsetInSegment: Int
    ) {
        let (before, after) = offsetInSegment % 2 == 0 ? (old, new) : (old.byteSwapped, new.byteSwapped)
        let checksum = frame.loadBigEndian(at: position, as: UInt16.self)
        frame.storeBigEndian(fold(UInt64(~checksum) + UInt64(~before) + UInt64(after)), at: position)
    }
}
