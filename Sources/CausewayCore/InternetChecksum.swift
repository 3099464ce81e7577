/// The one's-complement sum of IP, ICMP and TCP headers (RFC 1071), 32 bits at a time.
public enum InternetChecksum {
    /// The sum of `bytes` as big-endian 16-bit words, not yet folded; sums add up.
    @inline(__always)
    public static func sum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        // Four bytes at a time: the carry into the upper half is folded back in `fold`.
        var sum: UInt64 = 0
        var index = 0
        while index + 4 <= bytes.count {
            sum &+= UInt64(bytes.loadBigEndian(at: index, as: UInt32.self))
            index += 4
        }
        if index + 2 <= bytes.count {
            sum &+= UInt64(bytes.loadBigEndian(at: index, as: UInt16.self))
            index += 2
        }
        if index < bytes.count { sum &+= UInt64(bytes[index]) << 8 }
        return sum
    }

    /// The checksum field for a sum: folded to 16 bits and complemented.
    @inline(__always)
    public static func fold(_ sum: UInt64) -> UInt16 {
        var sum = sum
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        fold(sum(bytes))
    }
}
