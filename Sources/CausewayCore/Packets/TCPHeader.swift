/// Where TCP keeps what Causeway reads and rewrites (RFC 9293), as offsets from the start
/// of the TCP header.
public enum TCPHeader {
    public static let minimumLength = 20
    static let sequenceOffset = 4
    static let acknowledgmentOffset = 8
    /// Data offset (header length in 32-bit words) in the high nibble, reserved bits below.
    static let dataOffsetOffset = 12
    static let flagsOffset = 13
    static let windowOffset = 14
    static let checksumOffset = 16
    static let urgentPointerOffset = 18

    static let fin: UInt8 = 0x01
    static let syn: UInt8 = 0x02
    static let psh: UInt8 = 0x08
    static let ack: UInt8 = 0x10
    static let cwr: UInt8 = 0x80

    /// The header's length, options included, from its data offset at `tcp` in `frame`.
    @inline(__always)
    static func headerLength(_ frame: UnsafeRawBufferPointer, at tcp: Int) -> Int {
        Int(frame[tcp + dataOffsetOffset] >> 4) * 4
    }
}
