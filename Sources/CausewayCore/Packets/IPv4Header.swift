/// Where IPv4 keeps its fields (RFC 791), as offsets from the start of the IP header.
public enum IPv4Header {
    /// A header without options (IHL 5).
    public static let minimumLength = 20
    /// Version in the high nibble, header length in 32-bit words (IHL) in the low one.
    public static let versionAndLengthOffset = 0
    /// The whole packet's length, header included.
    public static let totalLengthOffset = 2
    /// Names the packet its fragments belong to.
    public static let identificationOffset = 4
    /// Flags (reserved, DF, MF) and the fragment offset in 8-byte units.
    public static let fragmentOffset = 6
    /// Hops left.
    public static let timeToLiveOffset = 8
    /// The transport protocol (IPProtocol).
    public static let protocolOffset = 9
    /// The header checksum (the header alone).
    public static let checksumOffset = 10
    /// The sender's address.
    public static let sourceOffset = 12
    /// The receiver's address.
    public static let destinationOffset = 16
    /// Four bytes.
    public static let addressLength = 4

    /// DF: the packet must not be split on the way.
    public static let dontFragment: UInt16 = 0x4000
    /// MF: more fragments follow this one.
    public static let moreFragments: UInt16 = 0x2000
    /// Where this fragment starts, in 8-byte units.
    public static let fragmentOffsetMask: UInt16 = 0x1FFF
}
