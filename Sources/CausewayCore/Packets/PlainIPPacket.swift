/// What the two receive offloads (`TCPCoalescer`, `UDPCoalescer`) ask of an IP packet before
/// it may merge with others, and do to the merged one: no IPv4 options or IPv6 extension
/// headers, lengths that fill the frame, a right IPv4 header checksum and transport checksum;
/// the same header bytes but lengths, identification and checksums; lengths and checksum set
/// for the whole merge.
enum PlainIPPacket {
    /// Whether the packet at `ip` in `frame` is IPv6, when it is plain with its transport
    /// header right at `transport`; nil when it is not plain.
    @inline(__always)
    static func isIPv6(_ frame: UnsafeRawBufferPointer, layout: FrameLayout, transport: Int) -> Bool? {
        let ip = layout.networkOffset
        switch layout.ipVersion {
        case .ipv4:
            // No options; the total length fills the frame (no Ethernet padding).
            guard transport == ip + IPv4Header.minimumLength,
                  Int(frame.loadBigEndian(at: ip + IPv4Header.totalLengthOffset, as: UInt16.self)) == frame.count - ip,
                  InternetChecksum.checksum(UnsafeRawBufferPointer(rebasing: frame[ip..<transport])) == 0
            else { return nil }
            return false
        case .ipv6:
            guard transport == ip + IPv6Header.length,
                  Int(frame.loadBigEndian(at: ip + IPv6Header.payloadLengthOffset, as: UInt16.self)) == frame.count - transport
            else { return nil }
            return true
        case .none:
            return nil
        }
    }

    /// Whether the transport checksum (TCP or UDP: `protocol`) of the packet is right.
    @inline(__always)
    static func transportChecksumIsValid(
        _ frame: UnsafeRawBufferPointer, networkOffset: Int, isIPv6: Bool, protocol: UInt8, transport: Int
    ) -> Bool {
        let sum = InternetChecksum.pseudoHeaderSum(
            frame, networkOffset: networkOffset, isIPv6: isIPv6, protocol: `protocol`, length: frame.count - transport
        ) + InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: frame[transport...]))
        return InternetChecksum.fold(sum) == 0
    }

    /// Whether `frame` has the bytes of `merged` up to `transport`, but for the IP lengths,
    /// IPv4 identification and header checksum: addresses, VLAN tags, EtherType, TOS, flags,
    /// TTL, flow label.
    @inline(__always)
    static func sameHeaders(_ frame: UnsafeRawBufferPointer, as merged: UnsafeMutableRawBufferPointer, ip: Int, transport: Int, isIPv6: Bool) -> Bool {
        isIPv6
            ? equal(frame, merged, 0..<(ip + IPv6Header.payloadLengthOffset)) && equal(frame, merged, (ip + IPv6Header.nextHeaderOffset)..<transport)
            : equal(frame, merged, 0..<(ip + IPv4Header.totalLengthOffset))
                && equal(frame, merged, (ip + IPv4Header.fragmentOffset)..<(ip + IPv4Header.checksumOffset))
                && equal(frame, merged, (ip + IPv4Header.sourceOffset)..<transport)
    }

    @inline(__always)
    static func equal(_ frame: UnsafeRawBufferPointer, _ merged: UnsafeMutableRawBufferPointer, _ range: Range<Int>) -> Bool {
        for index in range where merged[index] != frame[index] { return false }
        return true
    }

    /// Sets the merged packet's IP length (and IPv4 header checksum), and in the transport
    /// checksum field at `checksumOffset` the pseudo-header sum that the kernel completes for
    /// each packet it cuts. The transport's own length field, if any, is the caller's.
    static func setLengths(_ frame: UnsafeMutableRawBufferPointer, ip: Int, transport: Int, isIPv6: Bool, protocol: UInt8, checksumOffset: Int) {
        let transportLength = frame.count - transport
        if isIPv6 {
            frame.storeBigEndian(UInt16(transportLength), at: ip + IPv6Header.payloadLengthOffset)
        } else {
            frame.storeBigEndian(UInt16(frame.count - ip), at: ip + IPv4Header.totalLengthOffset)
            frame.storeBigEndian(UInt16(0), at: ip + IPv4Header.checksumOffset)
            let header = UnsafeRawBufferPointer(rebasing: frame[ip..<transport])
            frame.storeBigEndian(InternetChecksum.checksum(header), at: ip + IPv4Header.checksumOffset)
        }
        let pseudo = InternetChecksum.pseudoHeaderSum(
            UnsafeRawBufferPointer(frame), networkOffset: ip, isIPv6: isIPv6, protocol: `protocol`, length: transportLength
        )
        frame.storeBigEndian(~InternetChecksum.fold(pseudo), at: transport + checksumOffset)
    }
}
