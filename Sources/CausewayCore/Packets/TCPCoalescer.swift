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
        guard let isIPv6 = PlainIPPacket.isIPv6(frame, layout: layout, transport: tcp) else { return nil }
        let tcpHeaderLength = TCPHeader.headerLength(frame, at: tcp)
        let flags = frame[tcp + TCPHeader.flagsOffset]
        guard tcpHeaderLength >= TCPHeader.minimumLength, tcp + tcpHeaderLength < frame.count,
              frame[tcp + TCPHeader.dataOffsetOffset] & 0x0F == 0, flags & ~TCPHeader.psh == TCPHeader.ack,
              PlainIPPacket.transportChecksumIsValid(frame, networkOffset: ip, isIPv6: isIPv6, protocol: IPProtocol.tcp, transport: tcp)
        else { return nil }
        return Segment(
            networkOffset: ip, isIPv6: isIPv6, tcpOffset: tcp, tcpHeaderLength: tcpHeaderLength,
            payloadLength: frame.count - tcp - tcpHeaderLength,
            sequence: frame.loadBigEndian(at: tcp + TCPHeader.sequenceOffset, as: UInt32.self), push: flags & TCPHeader.psh != 0
        )
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
        // Every header byte but lengths, IPv4 identification, checksums, sequence and flags.
        let sameIP = PlainIPPacket.sameHeaders(frame, as: buffer, ip: ip, transport: tcp, isIPv6: first.isIPv6)
        // Ports; acknowledgment and data offset; window; urgent pointer and options.
        return sameIP && equal(frame, tcp..<(tcp + TCPHeader.sequenceOffset))
            && equal(frame, (tcp + TCPHeader.acknowledgmentOffset)..<(tcp + TCPHeader.flagsOffset))
            && equal(frame, (tcp + TCPHeader.windowOffset)..<(tcp + TCPHeader.checksumOffset))
            && equal(frame, (tcp + TCPHeader.urgentPointerOffset)..<first.payloadOffset)
    }

    @inline(__always)
    private func equal(_ frame: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        PlainIPPacket.equal(frame, buffer, range)
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
        PlainIPPacket.setLengths(
            frame, ip: first.networkOffset, transport: first.tcpOffset, isIPv6: first.isIPv6, protocol: IPProtocol.tcp,
            checksumOffset: TCPHeader.checksumOffset
        )
    }
}
