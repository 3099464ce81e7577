/// The addressing part of an Ethernet II frame, read in place from a receive buffer.
public struct EthernetHeader: Sendable, Equatable {
    /// Destination, source and EtherType.
    public static let minimumLength = 14
    /// Where the destination address starts.
    public static let destinationOffset = 0
    /// Where the source address starts.
    public static let sourceOffset = 6
    /// The EtherType, or the first tag's type.
    public static let etherTypeOffset = 12
    /// A VLAN tag: its type, then priority, drop eligibility and the 12-bit VLAN id.
    public static let tagLength = 4
    /// The VLAN id in a tag's control information (below priority and drop eligibility).
    public static let vlanIDMask: UInt16 = 0x0FFF

    public let destination: MACAddress
    public let source: MACAddress
    /// The VLAN the frame is switched in: the 12-bit id of its outermost tag (the service
    /// tag of a frame tagged twice), nil when untagged.
    public let vlan: UInt16?

    /// Reads the addresses of `frame`, whose layout is `layout` (which guarantees the
    /// addresses are there).
    @inlinable
    public init(frame: UnsafeRawBufferPointer, layout: FrameLayout) {
        destination = MACAddress(bytes: frame, offset: Self.destinationOffset)
        source = MACAddress(bytes: frame, offset: Self.sourceOffset)
        vlan = layout.vlan
    }
}
