/// The virtio-net header a TAP opened with IFF_VNET_HDR puts before every frame it reads
/// and expects before every frame written (struct virtio_net_hdr). Its 16-bit fields are in
/// the host's byte order: the legacy header, as TUN speaks it unless told otherwise.
public enum VirtioNetHeader {
    public static let length = 10
    static let needsChecksum: UInt8 = 1
    static let segmentTCPv4: UInt8 = 1
    static let segmentTCPv6: UInt8 = 4
    /// UDP segmentation (USO), for IPv4 and IPv6 alike: VIRTIO_NET_HDR_GSO_UDP_L4.
    static let segmentUDP: UInt8 = 5
    // Where each 16-bit field is: hdr_len, gso_size, csum_start, csum_offset.
    static let headersLengthOffset = 2
    static let segmentSizeOffset = 4
    static let checksumStartOffset = 6
    static let checksumOffsetOffset = 8

    /// The 16-bit field at `offset`.
    static func field(_ header: UnsafeRawBufferPointer, at offset: Int) -> Int {
        Int(header.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    public enum Segmentation: Sendable, Equatable {
        case tcpIPv4
        case tcpIPv6
    }

    /// What a header read from the TAP asks to segment; nil for a plain frame. (Only TCP is
    /// offered to the kernel; the ECN bit needs nothing more here.)
    static func segmentation(_ header: UnsafeRawBufferPointer) -> Segmentation? {
        switch header[1] & ~0x80 {
        case segmentTCPv4: .tcpIPv4
        case segmentTCPv6: .tcpIPv6
        default: nil
        }
    }

    /// Where a header read from the TAP says a checksum is left to fill in: from where it is
    /// summed, and where in that it goes. Nil when the frame's checksums are complete.
    static func checksumToComplete(_ header: UnsafeRawBufferPointer) -> (start: Int, offset: Int)? {
        guard header[0] & needsChecksum != 0 else { return nil }
        return (field(header, at: checksumStartOffset), field(header, at: checksumOffsetOffset))
    }

    /// Asks the kernel to cut the frame into UDP datagrams of `segmentSize` payload bytes (the
    /// last may be shorter), completing each one's checksum from the pseudo-header sum in the
    /// UDP checksum field.
    static func writeUDPSegmentation(into header: UnsafeMutableRawBufferPointer, headersLength: Int, segmentSize: Int, checksumStart: Int) {
        header[0] = needsChecksum
        header[1] = segmentUDP
        header.storeBytes(of: UInt16(headersLength), toByteOffset: headersLengthOffset, as: UInt16.self)
        header.storeBytes(of: UInt16(segmentSize), toByteOffset: segmentSizeOffset, as: UInt16.self)
        header.storeBytes(of: UInt16(checksumStart), toByteOffset: checksumStartOffset, as: UInt16.self)
        header.storeBytes(of: UInt16(UDPHeader.checksumOffset), toByteOffset: checksumOffsetOffset, as: UInt16.self)
    }

    /// Asks the kernel to cut the frame into TCP segments of `segmentSize` payload bytes,
    /// completing each one's checksum from the pseudo-header sum in the TCP checksum field.
    static func writeTCPSegmentation(
        into header: UnsafeMutableRawBufferPointer, isIPv6: Bool, headersLength: Int, segmentSize: Int, checksumStart: Int
    ) {
        header[0] = needsChecksum
        header[1] = isIPv6 ? segmentTCPv6 : segmentTCPv4
        header.storeBytes(of: UInt16(headersLength), toByteOffset: headersLengthOffset, as: UInt16.self)
        header.storeBytes(of: UInt16(segmentSize), toByteOffset: segmentSizeOffset, as: UInt16.self)
        header.storeBytes(of: UInt16(checksumStart), toByteOffset: checksumStartOffset, as: UInt16.self)
        header.storeBytes(of: UInt16(TCPHeader.checksumOffset), toByteOffset: checksumOffsetOffset, as: UInt16.self)
    }
}
