/// Numbers in IPv4's protocol and IPv6's next-header fields that Causeway acts on
/// (IANA's "Assigned Internet Protocol Numbers").
public enum IPProtocol {
    /// ICMP for IPv4 (RFC 792).
    public static let icmp: UInt8 = 1
    /// TCP (RFC 9293).
    public static let tcp: UInt8 = 6
    /// UDP (RFC 768).
    public static let udp: UInt8 = 17
    /// ICMPv6 (RFC 4443).
    public static let icmpv6: UInt8 = 58

    // IPv6 extension headers, which FrameLayout walks or stops at.
    /// Hop-by-hop options, in 8-byte units after the first 8.
    public static let hopByHopOptions: UInt8 = 0
    /// Routing, in 8-byte units after the first 8.
    public static let routing: UInt8 = 43
    /// Fragment: always 8 bytes.
    public static let fragment: UInt8 = 44
    /// ESP: encrypted from here on, so a walk ends here.
    public static let encapsulatingSecurityPayload: UInt8 = 50
    /// Authentication header: 4-byte units, plus 2 (RFC 4302).
    public static let authentication: UInt8 = 51
    /// Nothing follows.
    public static let noNextHeader: UInt8 = 59
    /// Destination options, in 8-byte units after the first 8.
    public static let destinationOptions: UInt8 = 60
}
