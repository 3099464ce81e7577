/// Version 4 of the wire format (site keys, Noise IKpsk2, a counter space per sending lane, a
/// transport cipher agreed in the handshake); docs/protocol.md draws every message. Versions
/// 1 (a pre-shared key alone), 2 (one counter space) and 3 (ChaCha20-Poly1305 always) are
/// refused as malformed.
///
/// Every datagram starts with the same four bytes: version, message type, two reserved
/// zero bytes. Multi-byte integers are big-endian; inside the AEAD nonce the counter is
/// little-endian for ChaCha20-Poly1305, as Noise lays it out.
public enum WireFormat {
    public static let version: UInt8 = 4
    public static let commonHeaderLength = 4
    /// Where the message type sits in the common header.
    public static let typeOffset = 1
    public static let tagLength = 16
    public static let publicKeyLength = 32
    public static let timestampLength = 12

    public static let macLength = 16

    public static let initiationLength = Initiation.length
    public static let responseLength = Response.length
    /// version, type, reserved(2), receiver index(4), counter(8)
    public static let transportHeaderLength = commonHeaderLength + 4 + 8
    /// Where a transport message's counter starts; its first byte is the sending lane.
    public static let counterOffset = 8
    /// The transport header, then network id(3) and a reserved zero byte.
    public static let dataHeaderLength = transportHeaderLength + 4
    /// What a data frame costs on top of the Ethernet frame it carries.
    public static let dataOverhead = dataHeaderLength + tagLength
    /// Sealed in front of each piece of a split frame: frame id(4), frame length(2), offset(2).
    public static let fragmentHeaderLength = 8
    /// What a fragment costs on top of the piece of frame it carries.
    public static let fragmentOverhead = dataHeaderLength + fragmentHeaderLength + tagLength

    /// The largest Ethernet frame the link carries: a 9000-byte jumbo payload with a VLAN tag.
    public static let maximumFrameLength = 9018
    public static let maximumDatagramLength = maximumFrameLength + dataOverhead

    /// The message type of a datagram whose common header and length are well-formed.
    public static func messageType(of datagram: UnsafeRawBufferPointer) -> MessageType? {
        guard datagram.count >= commonHeaderLength,
              datagram[0] == version,
              datagram[2] == 0, datagram[3] == 0,
              let type = MessageType(rawValue: datagram[typeOffset])
        else { return nil }
        if type.isFixedLength ? datagram.count != type.minimumLength : datagram.count < type.minimumLength {
            return nil
        }
        return type
    }

    static func writeCommonHeader(_ type: MessageType, into out: UnsafeMutableRawBufferPointer) {
        out[0] = version
        out[typeOffset] = type.rawValue
        out[2] = 0
        out[3] = 0
    }
}
