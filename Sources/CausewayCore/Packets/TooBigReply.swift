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

    /// Builds the reply to `frame` (which does not fit `largestFrame`) into `out`; returns
    /// its length, or nil when the frame gets no reply: not IP, IPv4 without DF, itself an
    /// ICMP error, or from an address one never answers.
    public static func build(for frame: UnsafeRawBufferPointer, largestFrame: Int, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard frame.count >= 14 else { return nil }
        var l2 = 14
        var etherType = UInt16(frame[12]) << 8 | UInt16(frame[13])
        if etherType == EthernetHeader.vlanTagType, frame.count >= 18 {
            l2 = 18
            etherType = UInt16(frame[16]) << 8 | UInt16(frame[17])
        }
        let mtu = largestFrame - l2
        guard mtu >= 68, frame[0] & 0x01 == 0, frame[6] & 0x01 == 0 else { return nil }
        let packet = UnsafeRawBufferPointer(rebasing: frame[l2...])
        // Ethernet: back to the sender, from the destination, in the same VLAN.
        for index in 0..<6 {
            out[index] = frame[6 + index]
            out[6 + index] = frame[index]
        }
        for index in 12..<l2 { out[index] = frame[index] }
        let reply = UnsafeMutableRawBufferPointer(rebasing: out[l2...])
        let length: Int?
        switch etherType {
        case EthernetHeader.ipv4Type: length = ipv4(packet, mtu: mtu, into: reply)
        case EthernetHeader.ipv6Type: length = ipv6(packet, mtu: mtu, into: reply)
        default: length = nil
        }
        return length.map { $0 + l2 }
    }

    private static func ipv4(_ packet: UnsafeRawBufferPointer, mtu: Int, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard packet.count >= 20, packet[0] >> 4 == 4, packet[6] & 0x40 != 0 else { return nil }
        let headerLength = Int(packet[0] & 0x0F) * 4
        guard headerLength >= 20, packet.count >= headerLength else { return nil }
        // Never answer an ICMP error (that way lie loops), nor a broadcast or unspecified source.
        if packet[9] == 1, packet.count > headerLength, isICMPError(packet[headerLength]) { return nil }
        if packet[12] == 0 || packet[12] >= 224 { return nil }
        let quoted = min(packet.count, headerLength + 8 + 512)
        let total = 20 + 8 + quoted
        guard out.count >= total else { return nil }

        out.initializeMemory(as: UInt8.self, repeating: 0)
        out[0] = 0x45
        out.storeBigEndian(UInt16(total), at: 2)
        out[6] = 0x40  // DF
        out[8] = 64    // TTL
        out[9] = 1     // ICMP
        for index in 0..<4 {
            out[12 + index] = packet[16 + index]  // from the packet's destination
            out[16 + index] = packet[12 + index]  // to its source
        }
        store(InternetChecksum.checksum(UnsafeRawBufferPointer(rebasing: out[0..<20])), in: out, at: 10)

        let icmp = UnsafeMutableRawBufferPointer(rebasing: out[20..<total])
        icmp[0] = 3  // destination unreachable
        icmp[1] = 4  // fragmentation needed and DF set
        icmp.storeBigEndian(UInt16(mtu), at: 6)
        UnsafeMutableRawBufferPointer(rebasing: icmp[8...]).copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[0..<quoted]))
        store(InternetChecksum.checksum(UnsafeRawBufferPointer(icmp)), in: icmp, at: 2)
        return total
    }

    private static func ipv6(_ packet: UnsafeRawBufferPointer, mtu: Int, into out: UnsafeMutableRawBufferPointer) -> Int? {
        // Hosts treat an IPv6 MTU below 1280 as 1280, which would still not fit: split instead.
        guard packet.count >= 40, packet[0] >> 4 == 6, mtu >= ipv6MinimumMTU else { return nil }
        if packet[6] == 58, packet.count > 40, packet[40] < 128 { return nil }  // an ICMPv6 error
        if packet[8] == 0xFF || packet[8..<24].allSatisfy({ $0 == 0 }) { return nil }  // multicast, unspecified
        let quoted = min(packet.count, ipv6MinimumMTU - 40 - 8)
        let payloadLength = 8 + quoted
        let total = 40 + payloadLength
        guard out.count >= total else { return nil }

        out.initializeMemory(as: UInt8.self, repeating: 0)
        out[0] = 0x60
        out.storeBigEndian(UInt16(payloadLength), at: 4)
        out[6] = 58  // ICMPv6
        out[7] = 64  // hop limit
        for index in 0..<16 {
            out[8 + index] = packet[24 + index]
            out[24 + index] = packet[8 + index]
        }
        let icmp = UnsafeMutableRawBufferPointer(rebasing: out[40..<total])
        icmp[0] = 2  // packet too big
        icmp.storeBigEndian(UInt32(mtu), at: 4)
        UnsafeMutableRawBufferPointer(rebasing: icmp[8...]).copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[0..<quoted]))
        // The ICMPv6 checksum covers a pseudo-header: addresses, length, next header 58.
        var sum = InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: out[8..<40]))
        sum += UInt64(payloadLength) + 58
        sum += InternetChecksum.sum(UnsafeRawBufferPointer(icmp))
        store(InternetChecksum.fold(sum), in: icmp, at: 2)
        return total
    }

    private static func isICMPError(_ type: UInt8) -> Bool {
        type == 3 || type == 4 || type == 5 || type == 11 || type == 12
    }

    private static func store(_ value: UInt16, in out: UnsafeMutableRawBufferPointer, at offset: Int) {
        out[offset] = UInt8(value >> 8)
        out[offset + 1] = UInt8(value & 0xFF)
    }
}
