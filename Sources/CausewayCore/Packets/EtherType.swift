/// The EtherTypes Causeway tells apart: the two VLAN tags it looks through, and IP.
public enum EtherType {
    /// 802.1Q: a customer VLAN tag, or the inner tag of a frame tagged twice.
    public static let vlanTag: UInt16 = 0x8100
    /// 802.1ad: the outer (service) tag of a frame tagged twice.
    public static let serviceVLANTag: UInt16 = 0x88A8
    /// IPv4 (RFC 894).
    public static let ipv4: UInt16 = 0x0800
    /// IPv6 (RFC 2464).
    public static let ipv6: UInt16 = 0x86DD

    /// Whether `type` announces a VLAN tag rather than the payload.
    @inlinable @inline(__always)
    public static func isVLANTag(_ type: UInt16) -> Bool {
        type == vlanTag || type == serviceVLANTag
    }
}
