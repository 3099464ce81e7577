/// Where IPv6 keeps its fields (RFC 8200), as offsets from the start of the IP header.
public enum IPv6Header {
    /// The fixed header; extension headers follow it.
    public static let length = 40
    public static let payloadLengthOffset = 4
    public static let nextHeaderOffset = 6
    public static let hopLimitOffset = 7
    public static let sourceOffset = 8
    public static let destinationOffset = 24
    public static let addressLength = 16

    /// Every extension header starts with its next header, then (but for the fragment
    /// header, which is always 8 bytes) its length.
    public static let extensionLengthOffset = 1
    public static let fragmentHeaderLength = 8
    /// In the fragment header: the offset in 8-byte units, two reserved bits and M.
    public static let fragmentFieldOffset = 2
    public static let fragmentOffsetMask: UInt16 = 0xFFF8
    public static let moreFragments: UInt16 = 0x0001
}
