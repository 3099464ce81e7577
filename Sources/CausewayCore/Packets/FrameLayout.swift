/// Where the headers of one Ethernet frame are, found in a single walk over its bytes and
/// handed to everything that reads or rewrites the frame (switching, MSS clamping, too-big
/// replies, segmentation, coalescing), so that no consumer parses the frame again.
///
/// The rules of the walk:
/// - **Tags.** 802.1Q (0x8100) and 802.1ad (0x88A8) tags, either type in either place, up to
///   two. A third tag is not looked through: the EtherType is then that tag's type and the
///   frame is not IP. The VLAN a frame is switched in is its outermost tag's id. A tag cut
///   short by the end of the frame is not counted: its type stands as the EtherType.
/// - **IPv4.** IP when the EtherType and the version nibble say 4 and the 20-byte header is in
///   the frame. The transport is known only when the header length is valid: IHL at least 5,
///   the whole header inside the frame, and a total length no shorter than the header.
/// - **IPv6.** IP when the EtherType and the version nibble say 6 and the 40-byte header is in
///   the frame. Extension headers are walked: hop-by-hop options (0), routing (43),
///   destination options (60) and authentication (51, whose length counts 4-byte units, plus
///   2) by their length field, fragment (44) as 8 bytes. Anything else, ESP (50) and no next
///   header (59) included, ends the walk as the transport protocol. The walk gives up (no
///   transport protocol) after more than eight extension headers, or at one that does not
///   fit in the frame.
/// - **Fragments.** Only a whole packet or the first fragment carries the transport header:
///   for any later fragment the transport protocol is known (IPv6 stops at the fragment
///   header) but `transportOffset` is nil.
/// - **Transport.** `transportOffset` is set only when at least the first byte of the
///   transport header is inside the frame; a consumer checks that the fields it needs are.
///
/// Every offset it gives lies inside the frame it was built from.
public struct FrameLayout: Sendable, Equatable {
    /// What the frame carries after its tags.
    public enum IPVersion: Sendable, Equatable {
        case none
        case ipv4
        case ipv6
    }

    /// Tags looked through; a frame with more carries no IP as far as Causeway is concerned.
    public static let maximumTags = 2
    /// IPv6 extension headers walked before giving up: a bound on the work an outsider's
    /// frame can cause, well above what real packets carry.
    public static let maximumExtensionHeaders = 8

    /// VLAN tags before the EtherType (0, 1 or 2).
    public let tagCount: Int
    /// The outermost tag's 12-bit VLAN id, nil for an untagged frame.
    public let vlan: UInt16?
    /// The EtherType after the tags.
    public let etherType: UInt16
    /// Where the network (L3) header starts: right after the EtherType.
    public let networkOffset: Int
    public let ipVersion: IPVersion
    /// The IP header proper: IHL × 4 (options included) for IPv4 when valid, 40 for IPv6
    /// (extension headers not included); nil when the frame is not IP or the IPv4 header
    /// length is invalid.
    public let ipHeaderLength: Int?
    /// IPv4's protocol or the last next header of IPv6's chain; nil when unknown.
    public let transportProtocol: UInt8?
    /// Where the transport (L4) header starts; nil when the frame does not carry it.
    public let transportOffset: Int?
    /// Whether the IP packet is a fragment (more fragments follow, or it starts further in).
    public let isFragment: Bool
    /// Whether the packet is whole or the first fragment: only these carry the transport
    /// header.
    public let isFirstOrWhole: Bool

    /// Walks `frame` once; nil only when it is shorter than an Ethernet header.
    @inlinable
    public init?(frame: UnsafeRawBufferPointer) {
        guard frame.count >= EthernetHeader.minimumLength else { return nil }
        var typeOffset = EthernetHeader.etherTypeOffset
        var etherType = frame.loadBigEndian(at: typeOffset, as: UInt16.self)
        var tags = 0
        var vlan: UInt16?
        // A tag counts when its id and the type after it are both in the frame.
        while EtherType.isVLANTag(etherType), tags < Self.maximumTags,
              frame.count >= typeOffset + 2 + EthernetHeader.tagLength {
            if tags == 0 { vlan = frame.loadBigEndian(at: typeOffset + 2, as: UInt16.self) & EthernetHeader.vlanIDMask }
            tags += 1
            typeOffset += EthernetHeader.tagLength
            etherType = frame.loadBigEndian(at: typeOffset, as: UInt16.self)
        }
        tagCount = tags
        self.vlan = vlan
        self.etherType = etherType
        let network = typeOffset + 2
        networkOffset = network

        let ip: IP
        switch etherType {
        case EtherType.ipv4: ip = IP(ipv4: frame, at: network)
        case EtherType.ipv6: ip = IP(ipv6: frame, at: network)
        default: ip = IP()
        }
        ipVersion = ip.version
        ipHeaderLength = ip.headerLength
        transportProtocol = ip.transportProtocol
        // The transport header must at least start inside the frame.
        transportOffset = ip.transportOffset.flatMap { $0 < frame.count ? $0 : nil }
        isFragment = ip.isFragment
        isFirstOrWhole = ip.isFirstOrWhole
    }

    /// What the IP walk found; not IP unless an initializer says so.
    @usableFromInline
    struct IP {
        @usableFromInline var version = IPVersion.none
        @usableFromInline var headerLength: Int?
        @usableFromInline var transportProtocol: UInt8?
        @usableFromInline var transportOffset: Int?
        @usableFromInline var isFragment = false
        @usableFromInline var isFirstOrWhole = true

        @inlinable
        init() {}

        @inlinable
        init(ipv4 frame: UnsafeRawBufferPointer, at ip: Int) {
            guard frame.count >= ip + IPv4Header.minimumLength, frame[ip] >> 4 == 4 else { return }
            version = .ipv4
            let length = Int(frame[ip] & 0x0F) * 4
            let totalLength = Int(frame.loadBigEndian(at: ip + IPv4Header.totalLengthOffset, as: UInt16.self))
            guard length >= IPv4Header.minimumLength, ip + length <= frame.count, totalLength >= length else { return }
            headerLength = length
            transportProtocol = frame[ip + IPv4Header.protocolOffset]
            let fragment = frame.loadBigEndian(at: ip + IPv4Header.fragmentOffset, as: UInt16.self)
            isFragment = fragment & (IPv4Header.moreFragments | IPv4Header.fragmentOffsetMask) != 0
            isFirstOrWhole = fragment & IPv4Header.fragmentOffsetMask == 0
            if isFirstOrWhole { transportOffset = ip + length }
        }

        @inlinable
        init(ipv6 frame: UnsafeRawBufferPointer, at ip: Int) {
            guard frame.count >= ip + IPv6Header.length, frame[ip] >> 4 == 6 else { return }
            version = .ipv6
            headerLength = IPv6Header.length
            var next = frame[ip + IPv6Header.nextHeaderOffset]
            var offset = ip + IPv6Header.length
            for _ in 0...FrameLayout.maximumExtensionHeaders {
                let length: Int
                switch next {
                case IPProtocol.hopByHopOptions, IPProtocol.routing, IPProtocol.destinationOptions, IPProtocol.authentication:
                    guard frame.count >= offset + 2 else { return }
                    let units = Int(frame[offset + IPv6Header.extensionLengthOffset])
                    // AH counts 4-byte units less two (RFC 4302); the others 8-byte units less one.
                    length = next == IPProtocol.authentication ? (units + 2) * 4 : (units + 1) * 8
                case IPProtocol.fragment:
                    guard frame.count >= offset + IPv6Header.fragmentHeaderLength else { return }
                    let field = frame.loadBigEndian(at: offset + IPv6Header.fragmentFieldOffset, as: UInt16.self)
                    isFragment = field & (IPv6Header.fragmentOffsetMask | IPv6Header.moreFragments) != 0
                    isFirstOrWhole = field & IPv6Header.fragmentOffsetMask == 0
                    length = IPv6Header.fragmentHeaderLength
                default:
                    transportProtocol = next
                    transportOffset = offset
                    return
                }
                guard offset + length <= frame.count else { return }
                next = frame[offset]
                offset += length
                // What follows a later fragment's header is the middle of the packet.
                if !isFirstOrWhole {
                    transportProtocol = next
                    return
                }
            }
            // More extension headers than any real packet carries: transport unknown.
        }
    }
}
