/// Segmentation offload for the TAP, done in userspace: the mirror of `TCPCoalescer`. With
/// offloads on, the kernel hands the TAP a LAN host's TCP data as it was sent, up to 64 KiB
/// in one frame, behind a virtio-net header naming the segment size; and any frame with its
/// transport checksum left to fill in. One read instead of forty. Causeway cuts such a frame
/// into the segments a NIC would have sent — each with its own sequence number, lengths,
/// IPv4 identification and complete checksums — and completes the checksum of any other.
public struct TCPSegmentation: Sendable, Equatable {
    /// Where the IP header starts (after Ethernet and any VLAN tags).
    public let ipOffset: Int
    public let isIPv6: Bool
    public let tcpOffset: Int
    /// Ethernet, IP and TCP headers: copied in front of every segment.
    public let headersLength: Int
    public let segmentSize: Int
    public let segments: Int
    let payloadLength: Int

    /// The plan for cutting `frame`, read with `header`; nil when the header asks for no
    /// segmentation, or names a layout the frame does not have.
    public init?(frame: UnsafeRawBufferPointer, header: UnsafeRawBufferPointer) {
        guard header.count >= VirtioNetHeader.length, let kind = VirtioNetHeader.segmentation(header) else { return nil }
        guard let ip = Self.ipOffset(frame) else { return nil }
        let etherType = frame.loadBigEndian(at: ip - 2, as: UInt16.self)
        let tcp = VirtioNetHeader.field(header, at: VirtioNetHeader.checksumStartOffset)
        let size = VirtioNetHeader.field(header, at: VirtioNetHeader.segmentSizeOffset)
        switch kind {
        case .tcpIPv4:
            guard etherType == EthernetHeader.ipv4Type, frame.count >= ip + 20, frame[ip] >> 4 == 4,
                  tcp == ip + Int(frame[ip] & 0x0F) * 4, frame[ip + 9] == TCPHeader.protocolNumber
            else { return nil }
        case .tcpIPv6:
            guard etherType == EthernetHeader.ipv6Type, frame.count >= ip + 40, frame[ip] >> 4 == 6, tcp >= ip + 40 else { return nil }
        }
        guard frame.count >= tcp + TCPHeader.minimumLength else { return nil }
        let headers = tcp + Int(frame[tcp + 12] >> 4) * 4
        guard size > 0, headers >= tcp + TCPHeader.minimumLength, frame.count > headers else { return nil }
        ipOffset = ip
        isIPv6 = kind == .tcpIPv6
        tcpOffset = tcp
        headersLength = headers
        segmentSize = size
        payloadLength = frame.count - headers
        segments = (payloadLength + size - 1) / size
    }

    /// Writes segment `index` of `frame` into `out`; returns its length, or nil when `out` is
    /// too small.
    public func writeSegment(_ index: Int, of frame: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
        let start = index * segmentSize
        let piece = min(segmentSize, payloadLength - start)
        let length = headersLength + piece
        guard out.count >= length else { return nil }
        UnsafeMutableRawBufferPointer(rebasing: out[0..<headersLength])
            .copyMemory(from: UnsafeRawBufferPointer(rebasing: frame[0..<headersLength]))
        UnsafeMutableRawBufferPointer(rebasing: out[headersLength..<length])
            .copyMemory(from: UnsafeRawBufferPointer(rebasing: frame[(headersLength + start)..<(headersLength + start + piece)]))
        let segment = UnsafeMutableRawBufferPointer(rebasing: out[0..<length])

        let sequence = frame.loadBigEndian(at: tcpOffset + TCPHeader.sequenceOffset, as: UInt32.self) &+ UInt32(start)
        segment.storeBigEndian(sequence, at: tcpOffset + TCPHeader.sequenceOffset)
        // FIN and PSH belong to the last segment, CWR to the first, as a NIC cuts them.
        let flags = tcpOffset + TCPHeader.flagsOffset
        if index < segments - 1 { segment[flags] &= ~(TCPHeader.fin | TCPHeader.psh) }
        if index > 0 { segment[flags] &= ~TCPHeader.cwr }
        if isIPv6 {
            segment.storeBigEndian(UInt16(length - ipOffset - 40), at: ipOffset + 4)
        } else {
            let ipHeaderLength = tcpOffset - ipOffset
            segment.storeBigEndian(UInt16(length - ipOffset), at: ipOffset + 2)
            let identification = frame.loadBigEndian(at: ipOffset + 4, as: UInt16.self) &+ UInt16(truncatingIfNeeded: index)
            segment.storeBigEndian(identification, at: ipOffset + 4)
            segment.storeBigEndian(UInt16(0), at: ipOffset + 10)
            let ipHeader = UnsafeRawBufferPointer(rebasing: segment[ipOffset..<(ipOffset + ipHeaderLength)])
            segment.storeBigEndian(InternetChecksum.checksum(ipHeader), at: ipOffset + 10)
        }
        segment.storeBigEndian(UInt16(0), at: tcpOffset + TCPHeader.checksumOffset)
        let tcpLength = length - tcpOffset
        let sum = TCPHeader.pseudoHeaderSum(UnsafeRawBufferPointer(segment), ipOffset: ipOffset, isIPv6: isIPv6, tcpLength: tcpLength)
            + InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: segment[tcpOffset...]))
        segment.storeBigEndian(InternetChecksum.fold(sum), at: tcpOffset + TCPHeader.checksumOffset)
        return length
    }

    /// Fills in the transport checksum the kernel left to the device (the header's
    /// NEEDS_CSUM: the field holds the pseudo-header sum, the rest is the sum from
    /// `csum_start`). Returns false when the header points outside the frame.
    public static func completeChecksum(_ frame: UnsafeMutableRawBufferPointer, header: UnsafeRawBufferPointer) -> Bool {
        guard let (start, offset) = VirtioNetHeader.checksumToComplete(header) else { return true }
        guard start < frame.count, start + offset + 2 <= frame.count else { return false }
        let sum = InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: frame[start...]))
        var checksum = InternetChecksum.fold(sum)
        // UDP sends a computed zero as all ones (zero means "no checksum"); TCP takes either.
        if checksum == 0 { checksum = 0xFFFF }
        frame.storeBigEndian(checksum, at: start + offset)
        return true
    }

    static func ipOffset(_ frame: UnsafeRawBufferPointer) -> Int? {
        var offset = 12
        // At most two VLAN tags (802.1ad outer, 802.1Q inner).
        for _ in 0..<3 {
            guard frame.count >= offset + 2 else { return nil }
            let type = frame.loadBigEndian(at: offset, as: UInt16.self)
            if type != EthernetHeader.vlanTagType && type != EthernetHeader.serviceVLANTagType { return offset + 2 }
            offset += 4
        }
        return nil
    }
}
