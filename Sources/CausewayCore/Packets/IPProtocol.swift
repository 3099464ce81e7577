/// Numbers in IPv4's protocol and IPv6's next-header fields that Causeway acts on
/// (IANA's "Assigned Internet Protocol Numbers").
public enum IPProtocol {
    public static let icmp: UInt8 = 1
    public static let tcp: UInt8 = 6
    public static let icmpv6: UInt8 = 58

    // IPv6 extension headers, which FrameLayout walks or stops at.
    public static let hopByHopOptions: UInt8 = 0
    public static let routing: UInt8 = 43
    public static let fragment: UInt8 = 44
    public static let encapsulatingSecurityPayload: UInt8 = 50
    public static let authentication: UInt8 = 51
    public static let noNextHeader: UInt8 = 59
    public static let destinationOptions: UInt8 = 60
}
