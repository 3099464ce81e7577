/// What a router does with a packet too large for the next link, for gateways configured
/// with `icmp-too-big`: instead of splitting the frame, answer the sending host with ICMP
/// "fragmentation needed" (IPv4, DF set) or ICMPv6 "packet too big", naming the MTU that
/// crosses whole. The host then sends smaller packets, and nothing is fragmented at all.
///
/// The reply appears to come from the packet's destination (its MAC and IP address): Causeway
/// is a link, not a router, so it has no address of its own, and hosts match these errors by
/// the packet quoted inside them, not by their source.
public enum TooBigReply {
    /// An ICMPv6 error may quote no more than fits IPv6's minimum MTU.
    static let ipv6MinimumMTU = 1280

    /// Builds the reply to `frame` (whose layout is `layout`, and which does not fit
    /// `largestFrame`) into `out`; returns its length, or nil when the frame gets no reply:
    /// not IP, IPv4 without DF or a later IPv4 fragment, itself an ICMP error, or from an
    /// address one never answers.
    public static func build(
        for frame: UnsafeRawBufferPointer, layout: FrameLayout, largestFrame: Int, into out: UnsafeMutableRawBufferPointer
    ) -> Int? {
        let l2 = layout.networkOffset
        let mtu = largestFrame - l2
        guard mtu >= 68, layout.ipHeaderLength != nil, frame[EthernetHeader.destinationOffset] & 0x01 == 0,
              frame[EthernetHeader.sourceOffset] & 0x01 == 0, out.count >= l2
        else { return nil }
        let packet = UnsafeRawBufferPointer(rebasing: frame[l2...])
        let reply = UnsafeMutableRawBufferPointer(rebasing: out[l2...])
        let length: Int? = switch layout.ipVersion {
        case .ipv4: ipv4(packet, layout: layout, mtu: mtu, into: reply)
        case .ipv6: ipv6(packet, layout: layout, mtu: mtu, into: reply)
        case .none: nil
        }
        guard let length else { return nil }
        // Ethernet: back to the sender, from the destination, in the same VLAN(s).
        let destination = EthernetHeader.destinationOffset, source = EthernetHeader.sourceOffset
        copy(frame, source, to: out, destination, MACAddress.length)
        copy(frame, destination, to: out, source, MACAddress.length)
        copy(frame, EthernetHeader.etherTypeOffset, to: out, EthernetHeader.etherTypeOffset, l2 - EthernetHeader.etherTypeOffset)
        return length + l2
    }

    private static func ipv4(_ packet: UnsafeRawBufferPointer, layout: FrameLayout, mtu: Int, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard let headerLength = layout.ipHeaderLength,
              packet.loadBigEndian(at: IPv4Header.fragmentOffset, as: UInt16.self) & IPv4Header.dontFragment != 0,
              // No ICMP error about a later fragment (RFC 1122 3.2.2): it may be one itself.
              layout.isFirstOrWhole
        else { return nil }
        // Never answer an ICMP error (that way lie loops), nor a broadcast or unspecified source.
        if layout.transportProtocol == IPProtocol.icmp, let icmp = layout.transportOffset, isICMPError(packet[icmp - layout.networkOffset]) {
            return nil
        }
        let source = packet[IPv4Header.sourceOffset]
        if source == 0 || source >= 224 { return nil }
        let quoted = min(packet.count, headerLength + 8 + 512)
        let total = IPv4Header.minimumLength + 8 + quoted
        guard out.count >= total else { return nil }

        out.initializeMemory(as: UInt8.self, repeating: 0)
        out[IPv4Header.versionAndLengthOffset] = 0x45
        out.storeBigEndian(UInt16(total), at: IPv4Header.totalLengthOffset)
        out.storeBigEndian(IPv4Header.dontFragment, at: IPv4Header.fragmentOffset)
        out[IPv4Header.timeToLiveOffset] = 64
        out[IPv4Header.protocolOffset] = IPProtocol.icmp
        // From the packet's destination, to its source.
        copy(packet, IPv4Header.destinationOffset, to: out, IPv4Header.sourceOffset, IPv4Header.addressLength)
        copy(packet, IPv4Header.sourceOffset, to: out, IPv4Header.destinationOffset, IPv4Header.addressLength)
        let header = UnsafeRawBufferPointer(rebasing: out[0..<IPv4Header.minimumLength])
        out.storeBigEndian(InternetChecksum.checksum(header), at: IPv4Header.checksumOffset)

        let icmp = UnsafeMutableRawBufferPointer(rebasing: out[IPv4Header.minimumLength..<total])
        icmp[0] = 3  // destination unreachable
        icmp[1] = 4  // fragmentation needed and DF set
        icmp.storeBigEndian(UInt16(mtu), at: 6)
        UnsafeMutableRawBufferPointer(rebasing: icmp[8...]).copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[0..<quoted]))
        icmp.storeBigEndian(InternetChecksum.checksum(UnsafeRawBufferPointer(icmp)), at: 2)
        return total
    }

    private static func ipv6(_ packet: UnsafeRawBufferPointer, layout: FrameLayout, mtu: Int, into out: UnsafeMutableRawBufferPointer) -> Int? {
        // Hosts treat an IPv6 MTU below 1280 as 1280, which would still not fit: split instead.
        guard mtu >= ipv6MinimumMTU else { return nil }
        // An ICMPv6 error (types below 128), found behind any extension headers.
        if layout.transportProtocol == IPProtocol.icmpv6, let icmp = layout.transportOffset, packet[icmp - layout.networkOffset] < 128 {
            return nil
        }
        let source = UnsafeRawBufferPointer(rebasing: packet[IPv6Header.sourceOffset..<(IPv6Header.sourceOffset + IPv6Header.addressLength)])
        if source[0] == 0xFF || source.allSatisfy({ $0 == 0 }) { return nil }  // multicast, unspecified
        let quoted = min(packet.count, ipv6MinimumMTU - IPv6Header.length - 8)
        let payloadLength = 8 + quoted
        let total = IPv6Header.length + payloadLength
        guard out.count >= total else { return nil }

        out.initializeMemory(as: UInt8.self, repeating: 0)
        out[0] = 0x60
        out.storeBigEndian(UInt16(payloadLength), at: IPv6Header.payloadLengthOffset)
        out[IPv6Header.nextHeaderOffset] = IPProtocol.icmpv6
        out[IPv6Header.hopLimitOffset] = 64
        copy(packet, IPv6Header.destinationOffset, to: out, IPv6Header.sourceOffset, IPv6Header.addressLength)
        copy(packet, IPv6Header.sourceOffset, to: out, IPv6Header.destinationOffset, IPv6Header.addressLength)
        let icmp = UnsafeMutableRawBufferPointer(rebasing: out[IPv6Header.length..<total])
        icmp[0] = 2  // packet too big
        icmp.storeBigEndian(UInt32(mtu), at: 4)
        UnsafeMutableRawBufferPointer(rebasing: icmp[8...]).copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[0..<quoted]))
        let sum = InternetChecksum.pseudoHeaderSum(
            UnsafeRawBufferPointer(out), networkOffset: 0, isIPv6: true, protocol: IPProtocol.icmpv6, length: payloadLength
        ) + InternetChecksum.sum(UnsafeRawBufferPointer(icmp))
        icmp.storeBigEndian(InternetChecksum.fold(sum), at: 2)
        return total
    }

    private static func isICMPError(_ type: UInt8) -> Bool {
        type == 3 || type == 4 || type == 5 || type == 11 || type == 12
    }

    private static func copy(
        _ packet: UnsafeRawBufferPointer, _ from: Int, to out: UnsafeMutableRawBufferPointer, _ at: Int, _ count: Int
    ) {
        UnsafeMutableRawBufferPointer(rebasing: out[at..<(at + count)])
            .copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[from..<(from + count)]))
    }
}
