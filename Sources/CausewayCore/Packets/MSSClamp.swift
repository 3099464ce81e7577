/// Lowers the maximum segment size that TCP SYN and SYN-ACK segments announce, so that a
/// full segment's frame travels whole in one datagram on the current path. Bulk TCP then
/// needs no fragmentation. IPv4 and IPv6, untagged or inside one 802.1Q tag.
public enum MSSClamp {
    static let mssOption: UInt8 = 2

    /// Rewrites the MSS option of a TCP SYN in `frame` when it announces more than a frame of
    /// `largestFrame` bytes can carry, fixing the TCP checksum. Returns whether it did.
    public static func clamp(_ frame: UnsafeMutableRawBufferPointer, largestFrame: Int) -> Bool {
        guard frame.count >= 54 else { return false }  // Ethernet, IPv4 and TCP headers at least
        var l2 = 14
        var etherType = UInt16(frame[12]) << 8 | UInt16(frame[13])
        if etherType == EthernetHeader.vlanTagType {
            l2 = 18
            etherType = UInt16(frame[16]) << 8 | UInt16(frame[17])
        }
        let tcp: Int
        let ipOverhead: Int
        switch etherType {
        case EthernetHeader.ipv4Type:
            guard frame.count >= l2 + 20, frame[l2] >> 4 == 4, frame[l2 + 9] == TCPHeader.protocolNumber,
                  // Only a first (or whole) IPv4 fragment holds the TCP header.
                  (UInt16(frame[l2 + 6]) << 8 | UInt16(frame[l2 + 7])) & 0x1FFF == 0
            else { return false }
            tcp = l2 + Int(frame[l2] & 0x0F) * 4
            ipOverhead = 40
        case EthernetHeader.ipv6Type:
            guard frame.count >= l2 + 40, frame[l2] >> 4 == 6, frame[l2 + 6] == TCPHeader.protocolNumber else { return false }
            tcp = l2 + 40
            ipOverhead = 60
        default:
            return false
        }
        guard frame.count >= tcp + 20, frame[tcp + TCPHeader.flagsOffset] & TCPHeader.syn != 0 else { return false }
        let limit = largestFrame - l2 - ipOverhead
        guard limit > 0 else { return false }
        let headerLength = min(Int(frame[tcp + 12] >> 4) * 4, frame.count - tcp)
        var option = tcp + 20
        while option < tcp + headerLength {
            let kind = frame[option]
            if kind == 0 { return false }
            if kind == 1 { option += 1; continue }
            guard option + 1 < tcp + headerLength else { return false }
            let length = Int(frame[option + 1])
            guard length >= 2, option + length <= tcp + headerLength else { return false }
            if kind == mssOption, length == 4 {
                let announced = UInt16(frame[option + 2]) << 8 | UInt16(frame[option + 3])
                guard Int(announced) > limit else { return false }
                let clamped = UInt16(limit)
                frame[option + 2] = UInt8(clamped >> 8)
                frame[option + 3] = UInt8(clamped & 0xFF)
                updateChecksum(frame, at: tcp + TCPHeader.checksumOffset, old: announced, new: clamped, alignedWith: option + 2 - tcp)
                return true
            }
            option += length
        }
        return false
    }

    /// RFC 1624's incremental update: HC' = ~(~HC + ~m + m'), for a 16-bit word that starts at
    /// an even offset of the checksummed data (`offsetInSegment`), or an odd one, whose bytes
    /// land swapped in the one's-complement sum.
    static func updateChecksum(_ frame: UnsafeMutableRawBufferPointer, at position: Int, old: UInt16, new: UInt16, alignedWith offsetInSegment: Int) {
        let (before, after) = offsetInSegment % 2 == 0 ? (old, new) : (old.byteSwapped, new.byteSwapped)
        let checksum = UInt16(frame[position]) << 8 | UInt16(frame[position + 1])
        var sum = UInt32(~checksum) + UInt32(~before) + UInt32(after)
        sum = (sum & 0xFFFF) + (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16)
        let updated = ~UInt16(sum)
        frame[position] = UInt8(updated >> 8)
        frame[position + 1] = UInt8(updated & 0xFF)
    }
}
