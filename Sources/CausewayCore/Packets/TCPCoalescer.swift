/// Receive offload for the TAP, done in userspace: consecutive TCP segments of one flow, as
/// they arrive from the peer, leave in one TAP write as one large frame with a virtio-net
/// header asking for segmentation (GSO). The kernel carries it through the bridge to the LAN
/// host as one packet, as it does a frame from a NIC that coalesces, and cuts it into the
/// original segments only where a link needs that. One write and one trip through the
/// stack instead of forty: on a bulk transfer this is most of the receiving gateway's work.
///
/// Only plain bulk segments merge: IPv4 without options, or IPv6 without extension headers,
/// untagged or in one or two VLAN tags (the same tags throughout a merge); TCP with ACK and at most PSH set; the same addresses, ports, acknowledgment,
/// window and options (timestamps included); each continuing the sequence where the last
/// ended, none longer than the first, whose length is the segment size the kernel cuts at.
/// A shorter segment or PSH ends a merge. A segment whose IP or TCP checksum is wrong never
/// merges: it goes alone, for the host to drop as it would have.
public final class TCPCoalescer: @unchecked Sendable {
    /// The largest IP packet a merge makes (IPv4's 16-bit total length).
    public static let largestPacket = 65_535
    /// The longest Ethernet header a merge has: two VLAN tags.
    static let largestEthernetHeader = EthernetHeader.minimumLength + FrameLayout.maximumTags * EthernetHeader.tagLength

    /// One segment's layout, as its frame's layout and TCP header give it.
    struct Segment {
        var networkOffset: Int
        var isIPv6: Bool
        var tcpOffset: Int
        var tcpHeaderLength: Int
        var payloadLength: Int
        var sequence: UInt32
        var push: Bool

        var payloadOffset: Int { tcpOffset + tcpHeaderLength }
    }

    /// The merge being built in `buffer`.
    struct Merge {
        var first: Segment
        var length: Int
        var segments: Int
        var nextSequence: UInt32
    }

    private let buffer: UnsafeMutableRawBufferPointer
    private let header: UnsafeMutableRawBufferPointer
    private var merge: Merge?

    public init() {
        buffer = .allocate(byteCount: Self.largestEthernetHeader + Self.largestPacket, alignment: 16)
        header = .allocate(byteCount: VirtioNetHeader.length, alignment: 8)
    }

    deinit {
        buffer.deallocate()
        header.deallocate()
    }

    /// What goes to the TAP: a frame, the virtio-net header asking to segment it (nil for a
    /// plain frame), and how many of the frames given to the coalescer it carries, with
    /// their bytes.
    public typealias Write = (
        _ frame: UnsafeRawBufferPointer, _ segmentation: UnsafeRawBufferPointer?, _ frames: Int, _ bytes: Int
    ) -> Void

    /// Takes the next frame for the LAN (whose layout is `layout`); `write` gets what must go
    /// to the TAP now, in order.
    @inline(__always)
    public func add(_ frame: UnsafeRawBufferPointer, layout: FrameLayout, write: Write) {
        guard let segment = Self.segment(of: frame, layout: layout) else {
            flush(write: write)
            write(frame, nil, 1, frame.count)
            return
        }
        if let merge, canAppend(segment, frame, to: merge) {
            append(segment, frame)
            if segment.push || segment.payloadLength < merge.first.payloadLength {
                flush(write: write)
            }
            return
        }
        flush(write: write)
        if segment.push {
            write(frame, nil, 1, frame.count)
            return
        }
        UnsafeMutableRawBufferPointer(rebasing: buffer[0..<frame.count]).copyMemory(from: frame)
        merge = Merge(first: segment, length: frame.count, segments: 1, nextSequence: segment.sequence &+ UInt32(segment.payloadLength))
    }

    /// Writes out the merge in progress, if any. Called at the end of every batch, so no
    /// frame waits for the next one.
    @inline(__always)
    public func flush(write: Write) {
        guard let merge else { return }
        self.merge = nil
        let frame = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<merge.length])
        if merge.segments == 1 {
            write(UnsafeRawBufferPointer(frame), nil, 1, frame.count)
            return
        }
        Self.rewriteHeaders(frame, merge.first)
        VirtioNetHeader.writeTCPSegmentation(
            into: header, isIPv6: merge.first.isIPv6, headersLength: merge.first.payloadOffset,
            segmentSize: merge.first.payloadLength, checksumStart: merge.first.tcpOffset
        )
        write(UnsafeRawBufferPointer(frame), UnsafeRawBufferPointer(header), merge.segments, merge.length + (merge.segments - 1) * merge.first.payloadOffset)
    }

    // MARK: - Parsing

    /// The segment `frame` (whose layout is `layout`) is, when it may merge; nil otherwise.
    static func segment(of frame: UnsafeRawBufferPointer, layout: FrameLayout) -> Segment? {
        guard layout.transportProtocol == IPProtocol.tcp, !layout.isFragment, let tcp = layout.transportOffset,
              // The smallest segment with a payload: TCP header and one byte.
              frame.count > tcp + TCPHeader.minimumLength
        else { return nil }
        let ip = layout.networkOffset
        let isIPv6: Bool
        switch layout.ipVersion {
        case .ipv4:
            // No options; the total length fills the frame (no Ethernet padding: a padded
            // frame is too short to matter).
            guard tcp == ip + IPv4Header.minimumLength,
                  Int(frame.loadBigEndian(at: ip + IPv4Header.totalLengthOffset, as: UInt16.self)) == frame.count - ip,
                  InternetChecksum.checksum(UnsafeRawBufferPointer(rebasing: frame[ip..<tcp])) == 0
            else { return nil }
            isIPv6 = false
        case .ipv6:
            guard tcp == ip + IPv6Header.length,
                  Int(frame.loadBigEndian(at: ip + IPv6Header.payloadLengthOffset, as: UInt16.self)) == frame.count - tcp
            else { return nil }
            isIPv6 = true
        case .none:
            return nil
        }
        let tcpHeaderLength = TCPHeader.headerLength(frame, at: tcp)
        let flags = frame[tcp + TCPHeader.flagsOffset]
        guard tcpHeaderLength >= TCPHeader.minimumLength, tcp + tcpHeaderLength < frame.count,
              frame[tcp + TCPHeader.dataOffsetOffset] & 0x0F == 0, flags & ~TCPHeader.psh == TCPHeader.ack,
              tcpChecksumIsValid(frame, networkOffset: ip, isIPv6: isIPv6, tcpOffset: tcp)
        else { return nil }
        return Segment(
            networkOffset: ip, isIPv6: isIPv6, tcpOffset: tcp, tcpHeaderLength: tcpHeaderLength,
            payloadLength: frame.count - tcp - tcpHeaderLength,
            sequence: frame.loadBigEndian(at: tcp + TCPHeader.sequenceOffset, as: UInt32.self), push: flags & TCPHeader.psh != 0
        )
    }

    static func tcpChecksumIsValid(_ frame: UnsafeRawBufferPointer, networkOffset: Int, isIPv6: Bool, tcpOffset: Int) -> Bool {
        let sum = InternetChecksum.pseudoHeaderSum(
            frame, networkOffset: networkOffset, isIPv6: isIPv6, protocol: IPProtocol.tcp, length: frame.count - tcpOffset
        ) + InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: frame[tcpOffset...]))
        return InternetChecksum.fold(sum) == 0
    }

    // MARK: - Merging

    private func canAppend(_ segment: Segment, _ frame: UnsafeRawBufferPointer, to merge: Merge) -> Bool {
        let first = merge.first
        guard segment.networkOffset == first.networkOffset, segment.isIPv6 == first.isIPv6, segment.tcpHeaderLength == first.tcpHeaderLength,
              segment.sequence == merge.nextSequence, segment.payloadLength <= first.payloadLength,
              merge.length + segment.payloadLength <= first.networkOffset + Self.largestPacket
        else { return false }
        let ip = first.networkOffset
        let tcp = first.tcpOffset
        // Every header byte but lengths, IPv4 identification, checksums, sequence and flags;
        // everything before `ip` too: addresses, VLAN tags and EtherType.
        let sameIP = first.isIPv6
            ? equal(frame, 0..<(ip + IPv6Header.payloadLengthOffset)) && equal(frame, (ip + IPv6Header.nextHeaderOffset)..<tcp)
            : equal(frame, 0..<(ip + IPv4Header.totalLengthOffset))
                && equal(frame, (ip + IPv4Header.fragmentOffset)..<(ip + IPv4Header.checksumOffset))
                && equal(frame, (ip + IPv4Header.sourceOffset)..<tcp)
        // Ports; acknowledgment and data offset; window; urgent pointer and options.
        return sameIP && equal(frame, tcp..<(tcp + TCPHeader.sequenceOffset))
            && equal(frame, (tcp + TCPHeader.acknowledgmentOffset)..<(tcp + TCPHeader.flagsOffset))
            && equal(frame, (tcp + TCPHeader.windowOffset)..<(tcp + TCPHeader.checksumOffset))
            && equal(frame, (tcp + TCPHeader.urgentPointerOffset)..<first.payloadOffset)
    }

    @inline(__always)
    private func equal(_ frame: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        for index in range where buffer[index] != frame[index] { return false }
        return true
    }

    private func append(_ segment: Segment, _ frame: UnsafeRawBufferPointer) {
        guard var merge else { return }
        let payload = UnsafeRawBufferPointer(rebasing: frame[segment.payloadOffset...])
        UnsafeMutableRawBufferPointer(rebasing: buffer[merge.length..<(merge.length + payload.count)]).copyMemory(from: payload)
        merge.length += payload.count
        merge.segments += 1
        merge.nextSequence &+= UInt32(payload.count)
        if segment.push { buffer[merge.first.tcpOffset + TCPHeader.flagsOffset] |= TCPHeader.psh }
        self.merge = merge
    }

    /// Makes the merged frame's headers describe it: IP length (and the IPv4 header
    /// checksum), and in the TCP checksum field the pseudo-header sum the kernel completes
    /// for each segment it cuts.
    private static func rewriteHeaders(_ frame: UnsafeMutableRawBufferPointer, _ first: Segment) {
        let ip = first.networkOffset
        let tcpLength = frame.count - first.tcpOffset
        if first.isIPv6 {
            frame.storeBigEndian(UInt16(tcpLength), at: ip + IPv6Header.payloadLengthOffset)
        } else {
            frame.storeBigEndian(UInt16(frame.count - ip), at: ip + IPv4Header.totalLengthOffset)
            frame.storeBigEndian(UInt16(0), at: ip + IPv4Header.checksumOffset)
            let header = UnsafeRawBufferPointer(rebasing: frame[ip..<first.tcpOffset])
            frame.storeBigEndian(InternetChecksum.checksum(header), at: ip + IPv4Header.checksumOffset)
        }
        let pseudo = InternetChecksum.pseudoHeaderSum(
            UnsafeRawBufferPointer(frame), networkOffset: ip, isIPv6: first.isIPv6, protocol: IPProtocol.tcp, length: tcpLength
        )
        frame.storeBigEndian(~InternetChecksum.fold(pseudo), at: first.tcpOffset + TCPHeader.checksumOffset)
    }
}
