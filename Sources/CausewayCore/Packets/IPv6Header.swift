/// Where IPv6 keeps its fields (RFC 8200), as offsets from the start of the IP header.
public enum IPv6Header {
    /// The fixed header; extension headers follow it.
    public static let length = 40
    /// What follows the fixed header, extension headers included.
    public static let payloadLengthOffset = 4
    /// The first extension header or the transport protocol (IPProtocol).
    public static let nextHeaderOffset = 6
    /// Hops left.
    public static let hopLimitOffset = 7
    /// The sender's address.
    public static let sourceOffset = 8
    /// The receiver's address.
    public static let destinationOffset = 24
    /// Sixteen bytes.
    public static let addressLength = 16

    /// Every extension header starts with its next header, then (but for the fragment
    /// header, which is always 8 bytes) its length.
    public static let extensionLengthOffset = 1
    /// The fragment header's fixed length.
    public static let fragmentHeaderLength = 8
    /// In the fragment header: the offset in 8-byte units, two reserved bits and M.
    public static let fragmentFieldOffset = 2
    /// Where this fragment starts, in 8-byte units (shifted left by 3).
    public static let fragmentOffsetMask: UInt16 = 0xFFF8
    /// M: more fragments follow this one.
    public static let moreFragments: UInt16 = 0x0001
}
