/// The addressing part of an Ethernet II frame, read in place from a receive buffer.
public struct EthernetHeader: Sendable, Equatable {
    /// Destination, source and EtherType.
    public static let minimumLength = 14
    public static let vlanTagType: UInt16 = 0x8100
    /// 802.1ad: the outer tag of a frame tagged twice.
    public static let serviceVLANTagType: UInt16 = 0x88A8
    public static let ipv4Type: UInt16 = 0x0800
    public static let ipv6Type: UInt16 = 0x86DD

    public let destination: MACAddress
    public let source: MACAddress
    /// The 12-bit VLAN id when the frame carries an 802.1Q tag.
    public let vlan: UInt16?

    /// Returns nil for a buffer too short to be an Ethernet frame.
    @inlinable
    public init?(frame: UnsafeRawBufferPointer) {
        guard frame.count >= Self.minimumLength else { return nil }
        destination = MACAddress(bytes: frame, offset: 0)
        source = MACAddress(bytes: frame, offset: 6)
        let etherType = UInt16(frame[12]) << 8 | UInt16(frame[13])
        if etherType == Self.vlanTagType, frame.count >= Self.minimumLength + 4 {
            vlan = (UInt16(frame[14]) << 8 | UInt16(frame[15])) & 0x0FFF
        } else {
            vlan = nil
        }
    }
}
