/// The one's-complement sum of IP, ICMP and TCP headers (RFC 1071).
public enum InternetChecksum {
    /// The sum of `bytes` as big-endian 16-bit words, not yet complemented; sums add up.
    @inline(__always)
    public static func sum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        // Words in the machine's byte order, eight bytes at a time as two 32-bit halves (the
        // 64-bit sum cannot overflow for any frame). The one's-complement sum does not care
        // about byte order until the end, where one swap puts it right (RFC 1071, 2(B)).
        var sum: UInt64 = 0
        var index = 0
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

    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        fold(sum(bytes))
    }
}
