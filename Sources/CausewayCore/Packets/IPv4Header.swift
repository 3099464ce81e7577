/// Where IPv4 keeps its fields (RFC 791), as offsets from the start of the IP header.
public enum IPv4Header {
    /// A header without options (IHL 5).
    public static let minimumLength = 20
    /// Version in the high nibble, header length in 32-bit words (IHL) in the low one.
    public static let versionAndLengthOffset = 0
    public static let totalLengthOffset = 2
    public static let identificationOffset = 4
    /// Flags (reserved, DF, MF) and the fragment offset in 8-byte units.
    public static let fragmentOffset = 6
    public static let timeToLiveOffset = 8
    public static let protocolOffset = 9
    public static let checksumOffset = 10
    public static let sourceOffset = 12
    public static let destinationOffset = 16
    public static let addressLength = 4

    public static let dontFragment: UInt16 = 0x4000
    public static let moreFragments: UInt16 = 0x2000
    public static let fragmentOffsetMask: UInt16 = 0x1FFF
}
