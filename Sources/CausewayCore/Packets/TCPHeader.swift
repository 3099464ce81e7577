/// Where TCP keeps what Causeway reads and rewrites (RFC 9293), and its pseudo-header sum.
public enum TCPHeader {
    /// The protocol number in IPv4's protocol and IPv6's next-header field.
    public static let protocolNumber: UInt8 = 6
    public static let minimumLength = 20
    static let sequenceOffset = 4
    static let flagsOffset = 13
    static let checksumOffset = 16

    static let fin: UInt8 = 0x01
    static let syn: UInt8 = 0x02
    static let psh: UInt8 = 0x08
    static let ack: UInt8 = 0x10
    static let cwr: UInt8 = 0x80

    /// The sum of the pseudo-header a TCP checksum covers: addresses, protocol, TCP length.
    static func pseudoHeaderSum(_ frame: UnsafeRawBufferPointer, ipOffset: Int, isIPv6: Bool, tcpLength: Int) -> UInt64 {
        let addresses = isIPv6 ? (ipOffset + 8)..<(ipOffset + 40) : (ipOffset + 12)..<(ipOffset + 20)
        return InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: frame[addresses])) + UInt64(protocolNumber) + UInt64(tcpLength)
    }
}
