/// Receive offload for the TAP, for UDP: the mirror of `TCPCoalescer` for a flow of small
/// datagrams (DNS, RTP, QUIC, a load generator). Consecutive datagrams of one flow, as they
/// arrive from the peer, all of one payload size but the last, leave in one TAP write as
/// one frame with a virtio-net header asking for UDP segmentation (USO, GSO_UDP_L4). The
/// bridge, its netfilter hooks and the LAN's veth handle it once; the kernel cuts it back
/// into the original datagrams where it must (at the latest, the receiving host's socket).
/// Per frame, that trip through the stack is most of what a small datagram costs the
/// receiving gateway.
///
/// Only plain datagrams merge: IPv4 without options, or IPv6 without extension headers,
/// untagged or in VLAN tags (the same throughout a merge), not fragments, with a payload;
/// the same addresses, ports and every other header byte but lengths, IPv4 identification
/// (which must count up from the first datagram's unless DF is set) and checksums. A datagram whose IP or UDP checksum is wrong, or that has none (IPv4's
/// zero), never merges: it goes alone, for the host to judge as it would have.
public final class UDPCoalescer: @unchecked Sendable {
    /// The largest IP packet a merge makes (IPv4's 16-bit total length).
    static let largestPacket = 65_535
    /// The most datagrams in one merge: the kernel refuses a UDP GSO frame that would cut into
    /// more than UDP_MAX_SEGMENTS (64 on older kernels, 128 since 6.11).
    static let mostSegments = 64

    /// One datagram's layout, as its frame's layout gives it.
    struct Datagram {
        var networkOffset: Int
        var isIPv6: Bool
        var udpOffset: Int
        var payloadLength: Int

        var payloadOffset: Int { udpOffset + UDPHeader.length }
    }

    /// The merge being built in `buffer`.
    struct Merge {
        var first: Datagram
        var length: Int
        var segments: Int
    }

    private let buffer: UnsafeMutableRawBufferPointer
    private let header: UnsafeMutableRawBufferPointer
    private var merge: Merge?

    public init() {
        buffer = .allocate(byteCount: TCPCoalescer.largestEthernetHeader + Self.largestPacket, alignment: 16)
        header = .allocate(byteCount: VirtioNetHeader.length, alignment: 8)
    }

    deinit {
        buffer.deallocate()
        header.deallocate()
    }

    /// Takes the next frame for the LAN (whose layout is `layout`); `write` gets what must go
    /// to the TAP now, in order.
    @inline(__always)
    public func add(_ frame: UnsafeRawBufferPointer, layout: FrameLayout, write: TCPCoalescer.Write) {
        guard let datagram = Self.datagram(of: frame, layout: layout) else {
            flush(write: write)
            write(frame, nil, 1, frame.count)
            return
        }
        if let merge, canAppend(datagram, frame, to: merge) {
            append(datagram, frame)
            if datagram.payloadLength < merge.first.payloadLength || merge.segments + 1 == Self.mostSegments {
                flush(write: write)
            }
            return
        }
        flush(write: write)
        UnsafeMutableRawBufferPointer(rebasing: buffer[0..<frame.count]).copyMemory(from: frame)
        merge = Merge(first: datagram, length: frame.count, segments: 1)
    }

    /// Writes out the merge in progress, if any. Called at the end of every batch, so no
    /// frame waits for the next one.
    @inline(__always)
    public func flush(write: TCPCoalescer.Write) {
        guard let merge else { return }
        self.merge = nil
        let frame = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<merge.length])
        if merge.segments == 1 {
            write(UnsafeRawBufferPointer(frame), nil, 1, frame.count)
            return
        }
        Self.rewriteHeaders(frame, merge.first)
        VirtioNetHeader.writeUDPSegmentation(
            into: header, headersLength: merge.first.payloadOffset, segmentSize: merge.first.payloadLength,
            checksumStart: merge.first.udpOffset
        )
        write(UnsafeRawBufferPointer(frame), UnsafeRawBufferPointer(header), merge.segments, merge.length + (merge.segments - 1) * merge.first.payloadOffset)
    }

    // MARK: - Parsing

    /// The datagram `frame` (whose layout is `layout`) is, when it may merge; nil otherwise.
    static func datagram(of frame: UnsafeRawBufferPointer, layout: FrameLayout) -> Datagram? {
        guard layout.transportProtocol == IPProtocol.udp, !layout.isFragment, let udp = layout.transportOffset,
              frame.count > udp + UDPHeader.length
        else { return nil }
        let ip = layout.networkOffset
        guard let isIPv6 = PlainIPPacket.isIPv6(frame, layout: layout, transport: udp) else { return nil }
        guard Int(frame.loadBigEndian(at: udp + UDPHeader.lengthOffset, as: UInt16.self)) == frame.count - udp,
              frame.loadBigEndian(at: udp + UDPHeader.checksumOffset, as: UInt16.self) != 0,
              PlainIPPacket.transportChecksumIsValid(frame, networkOffset: ip, isIPv6: isIPv6, protocol: IPProtocol.udp, transport: udp)
        else { return nil }
        return Datagram(networkOffset: ip, isIPv6: isIPv6, udpOffset: udp, payloadLength: frame.count - udp - UDPHeader.length)
    }

    // MARK: - Merging

    private func canAppend(_ datagram: Datagram, _ frame: UnsafeRawBufferPointer, to merge: Merge) -> Bool {
        let first = merge.first
        guard datagram.networkOffset == first.networkOffset, datagram.isIPv6 == first.isIPv6,
              datagram.payloadLength <= first.payloadLength, merge.segments < Self.mostSegments,
              merge.length + datagram.payloadLength <= first.networkOffset + Self.largestPacket
        else { return false }
        let ip = first.networkOffset
        let udp = first.udpOffset
        // Every header byte but lengths, IPv4 identification and checksums; ports.
        let sameIP = PlainIPPacket.sameHeaders(frame, as: buffer, ip: ip, transport: udp, isIPv6: first.isIPv6)
        return sameIP && PlainIPPacket.equal(frame, buffer, udp..<(udp + UDPHeader.lengthOffset)) && identificationFollows(frame, merge)
    }

    /// The kernel numbers the datagrams it cuts from the first one's IPv4 identification up;
    /// datagrams that may still be fragmented on the way (no DF) must have been numbered so,
    /// or two of them could share one and be put together wrongly. With DF it is free.
    @inline(__always)
    private func identificationFollows(_ frame: UnsafeRawBufferPointer, _ merge: Merge) -> Bool {
        let ip = merge.first.networkOffset
        let first = UnsafeRawBufferPointer(buffer)
        guard !merge.first.isIPv6, first.loadBigEndian(at: ip + IPv4Header.fragmentOffset, as: UInt16.self) & IPv4Header.dontFragment == 0
        else { return true }
        let firstID = first.loadBigEndian(at: ip + IPv4Header.identificationOffset, as: UInt16.self)
        return frame.loadBigEndian(at: ip + IPv4Header.identificationOffset, as: UInt16.self) == firstID &+ UInt16(truncatingIfNeeded: merge.segments)
    }

    private func append(_ datagram: Datagram, _ frame: UnsafeRawBufferPointer) {
        guard var merge else { return }
        let payload = UnsafeRawBufferPointer(rebasing: frame[datagram.payloadOffset...])
        UnsafeMutableRawBufferPointer(rebasing: buffer[merge.length..<(merge.length + payload.count)]).copyMemory(from: payload)
        merge.length += payload.count
        merge.segments += 1
        self.merge = merge
    }

    /// Makes the merged frame's headers describe it: IP and UDP lengths (and the IPv4 header
    /// checksum), and in the UDP checksum field the pseudo-header sum the kernel adjusts and
    /// completes for each datagram it cuts.
    private static func rewriteHeaders(_ frame: UnsafeMutableRawBufferPointer, _ first: Datagram) {
        frame.storeBigEndian(UInt16(frame.count - first.udpOffset), at: first.udpOffset + UDPHeader.lengthOffset)
        PlainIPPacket.setLengths(
            frame, ip: first.networkOffset, transport: first.udpOffset, isIPv6: first.isIPv6, protocol: IPProtocol.udp,
            checksumOffset: UDPHeader.checksumOffset
        )
    }
}
