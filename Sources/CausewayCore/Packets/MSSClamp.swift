/// Lowers the maximum segment size that TCP SYN and SYN-ACK segments announce, so that a
/// full segment's frame travels whole in one datagram on the current path. Bulk TCP then
/// needs no fragmentation. IPv4 and IPv6, untagged or inside one or two VLAN tags.
public enum MSSClamp {
    static let mssOption: UInt8 = 2
    static let endOfOptions: UInt8 = 0
    static let noOperation: UInt8 = 1
    /// What a full segment carries besides its payload: IP and TCP headers without options
    /// (the MSS counts from there, RFC 9293 3.7.1).
    static let ipv4Overhead = IPv4Header.minimumLength + TCPHeader.minimumLength
    static let ipv6Overhead = IPv6Header.length + TCPHeader.minimumLength

    /// Rewrites the MSS option of a TCP SYN in `frame` (whose layout is `layout`) when it
    /// announces more than a frame of `largestFrame` bytes can carry, fixing the TCP
    /// checksum. Returns whether it did.
    public static func clamp(_ frame: UnsafeMutableRawBufferPointer, layout: FrameLayout, largestFrame: Int) -> Bool {
        guard layout.transportProtocol == IPProtocol.tcp, let tcp = layout.transportOffset,
              frame.count >= tcp + TCPHeader.minimumLength,
              frame[tcp + TCPHeader.flagsOffset] & TCPHeader.syn != 0
        else { return false }
        let ipOverhead: Int
        switch layout.ipVersion {
        case .ipv4: ipOverhead = ipv4Overhead
        case .ipv6: ipOverhead = ipv6Overhead
        case .none: return false
        }
        let limit = largestFrame - layout.networkOffset - ipOverhead
        guard limit > 0 else { return false }
        let headerEnd = tcp + min(TCPHeader.headerLength(UnsafeRawBufferPointer(frame), at: tcp), frame.count - tcp)
        var option = tcp + TCPHeader.minimumLength
        while option < headerEnd {
            let kind = frame[option]
            if kind == endOfOptions { return false }
            if kind == noOperation { option += 1; continue }
            guard option + 1 < headerEnd else { return false }
            let length = Int(frame[option + 1])
            guard length >= 2, option + length <= headerEnd else { return false }
            if kind == mssOption, length == 4 {
                let announced = frame.loadBigEndian(at: option + 2, as: UInt16.self)
                guard Int(announced) > limit else { return false }
                let clamped = UInt16(limit)
                frame.storeBigEndian(clamped, at: option + 2)
                InternetChecksum.update(
                    frame, at: tcp + TCPHeader.checksumOffset, old: announced, new: clamped, alignedWith: option + 2 - tcp
                )
                return true
            }
            option += length
        }
        return false
    }
}
