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
    /// Linux sends no TCP segment with less payload (TCP_MIN_SND_MSS). A smaller size would
    /// ask for thousands of segments, each sealed and sent, from one read.
    static let smallestSegment = 48
    /// IPv4's 16-bit total length: no segment's packet may be longer.
    static let largestPacket = 65_535

    /// The plan for cutting `frame` (whose layout is `layout`), read with `header`; nil when
    /// the header asks for no segmentation, or names a layout the frame does not have: the
    /// IP version it names, TCP, not a fragment, and the checksum start where TCP starts.
    public init?(frame: UnsafeRawBufferPointer, layout: FrameLayout, header: UnsafeRawBufferPointer) {
        guard header.count >= VirtioNetHeader.length, let kind = VirtioNetHeader.segmentation(header) else { return nil }
        let isIPv6 = kind == .tcpIPv6
        guard layout.ipVersion == (isIPv6 ? .ipv6 : .ipv4), layout.transportProtocol == IPProtocol.tcp, !layout.isFragment,
              let tcp = layout.transportOffset, tcp == VirtioNetHeader.field(header, at: VirtioNetHeader.checksumStartOffset),
              frame.count >= tcp + TCPHeader.minimumLength
        else { return nil }
        let size = VirtioNetHeader.field(header, at: VirtioNetHeader.segmentSizeOffset)
        let headers = tcp + TCPHeader.headerLength(frame, at: tcp)
        guard size >= Self.smallestSegment, headers >= tcp + TCPHeader.minimumLength, frame.count > headers,
              headers - layout.networkOffset + min(size, frame.count - headers) <= Self.largestPacket
        else { return nil }
        ipOffset = layout.networkOffset
        self.isIPv6 = isIPv6
        tcpOffset = tcp
        headersLength = headers
        segmentSize = size
        payloadLength = frame.count - headers
        segments = (payloadLength + size - 1) / size
    }

    /// Writes segment `index` of `frame` into `out`; returns its length, or nil when `out` is
    /// too small.
    public func writeSegment(_ index: Int, of frame: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
        let payload = payload(index, of: frame)
        let length = headersLength + payload.count
        guard out.count >= length else { return nil }
        let destination = UnsafeMutableRawBufferPointer(rebasing: out[headersLength..<length])
        // Segment 0 cut where the frame was read is already in place.
        if UnsafeRawPointer(destination.baseAddress) != payload.baseAddress { destination.copyMemory(from: payload) }
        writeHeaders(index, of: frame, into: out)
        return length
    }

    /// Segment `index`'s payload, where it lies in `frame`.
    public func payload(_ index: Int, of frame: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let start = headersLength + index * segmentSize
        return UnsafeRawBufferPointer(rebasing: frame[start..<(start + min(segmentSize, frame.count - start))])
    }

    /// Writes segment `index`'s headers — its sequence number, flags, lengths, IPv4
    /// identification and both checksums — into the first `headersLength` bytes of `out`,
    /// for its payload (`payload(index, of: frame)`) wherever that lies: the segment is these
    /// headers followed by it. So a segment can be sealed with no copy of its payload
    /// (`DataPath.sealSegment`).
    public func writeHeaders(_ index: Int, of frame: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        let payload = payload(index, of: frame)
        let headers = UnsafeMutableRawBufferPointer(rebasing: out[0..<headersLength])
        if UnsafeRawPointer(headers.baseAddress) != frame.baseAddress {
            headers.copyMemory(from: UnsafeRawBufferPointer(rebasing: frame[0..<headersLength]))
        }
        let length = headersLength + payload.count
        let sequence = frame.loadBigEndian(at: tcpOffset + TCPHeader.sequenceOffset, as: UInt32.self) &+ UInt32(index * segmentSize)
        headers.storeBigEndian(sequence, at: tcpOffset + TCPHeader.sequenceOffset)
        // FIN and PSH belong to the last segment, CWR to the first, as a NIC cuts them.
        let flags = tcpOffset + TCPHeader.flagsOffset
        if index < segments - 1 { headers[flags] &= ~(TCPHeader.fin | TCPHeader.psh) }
        if index > 0 { headers[flags] &= ~TCPHeader.cwr }
        if isIPv6 {
            headers.storeBigEndian(UInt16(length - ipOffset - IPv6Header.length), at: ipOffset + IPv6Header.payloadLengthOffset)
        } else {
            // With IPv4 the TCP header follows the IP header and its options directly.
            let ipHeaderLength = tcpOffset - ipOffset
            headers.storeBigEndian(UInt16(length - ipOffset), at: ipOffset + IPv4Header.totalLengthOffset)
            let identificationOffset = ipOffset + IPv4Header.identificationOffset
            let identification = frame.loadBigEndian(at: identificationOffset, as: UInt16.self) &+ UInt16(truncatingIfNeeded: index)
            headers.storeBigEndian(identification, at: identificationOffset)
            headers.storeBigEndian(UInt16(0), at: ipOffset + IPv4Header.checksumOffset)
            let ipHeader = UnsafeRawBufferPointer(rebasing: headers[ipOffset..<(ipOffset + ipHeaderLength)])
            headers.storeBigEndian(InternetChecksum.checksum(ipHeader), at: ipOffset + IPv4Header.checksumOffset)
        }
        headers.storeBigEndian(UInt16(0), at: tcpOffset + TCPHeader.checksumOffset)
        // The TCP header's length is a multiple of four, so the payload's words line up and
        // the two sums add.
        let sum = InternetChecksum.pseudoHeaderSum(
            UnsafeRawBufferPointer(headers), networkOffset: ipOffset, isIPv6: isIPv6, protocol: IPProtocol.tcp, length: length - tcpOffset
        ) + InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: headers[tcpOffset...])) + InternetChecksum.sum(payload)
        headers.storeBigEndian(InternetChecksum.fold(sum), at: tcpOffset + TCPHeader.checksumOffset)
    }

    /// Fills in the transport checksum the kernel left to the device (the header's
    /// NEEDS_CSUM: the field holds the pseudo-header sum, the rest is the sum from
    /// `csum_start`). Returns false when the header points outside the frame.
    /// Whether the checksum a header leaves to fill in, if any, is the transport's and lies
    /// inside the frame. Checked before anything is decided about the frame: a request
    /// pointing elsewhere would rewrite headers after they were read.
    public static func checksumRequestFits(_ header: UnsafeRawBufferPointer, layout: FrameLayout, frameLength: Int) -> Bool {
        guard let (start, offset) = VirtioNetHeader.checksumToComplete(header) else { return true }
        return start == layout.transportOffset && start + offset + 2 <= frameLength
    }

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
}
