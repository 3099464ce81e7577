import Testing
@testable import CausewayCore

/// UDP datagrams as a LAN host sends them: Ethernet, IPv4 (identification counting up) or
/// IPv6, UDP with its checksum.
struct DatagramMaker {
    var ipv6 = false
    var sourcePort: UInt16 = 40_000
    var firstID: UInt16 = 300

    func frame(_ index: Int, payload: [UInt8]) -> [UInt8] {
        var udp = be(sourcePort) + be(UInt16(5201)) + be(UInt16(8 + payload.count)) + [0, 0] + payload
        let ip: [UInt8]
        let addresses: [UInt8]
        if ipv6 {
            addresses = [0xfd, 0, 0, 0x19] + Array(repeating: 0, count: 11) + [1] + [0xfd, 0, 0, 0x19] + Array(repeating: 0, count: 11) + [2]
            ip = [0x60, 0, 0, 0] + be(UInt16(udp.count)) + [17, 64] + addresses
        } else {
            addresses = [198, 19, 0, 1, 198, 19, 0, 2]
            var header = [0x45, 0] + be(UInt16(20 + udp.count)) + be(firstID &+ UInt16(index)) + [0x40, 0, 64, 17, 0, 0] + addresses
            header.replaceSubrange(10..<12, with: be(header.withUnsafeBytes { InternetChecksum.checksum($0) }))
            ip = header
        }
        udp.replaceSubrange(6..<8, with: be(Self.checksum(udp, addresses: addresses, ipv6: ipv6)))
        return [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1] + (ipv6 ? [0x86, 0xDD] : [0x08, 0x00]) + ip + udp
    }

    static func checksum(_ udp: [UInt8], addresses: [UInt8], ipv6: Bool) -> UInt16 {
        let pseudo = ipv6 ? addresses + be(UInt32(udp.count)) + [0, 0, 0, 17] : addresses + [0, 17] + be(UInt16(udp.count))
        let checksum = (pseudo + udp).withUnsafeBytes { InternetChecksum.checksum($0) }
        return checksum == 0 ? 0xFFFF : checksum
    }

    /// What the kernel makes of a frame written with UDP segmentation: the datagrams cut at
    /// the header's segment size, each with its own lengths, checksums and (IPv4) the first
    /// identification counted up.
    static func cutBack(_ merged: Written) throws -> [[UInt8]] {
        let header = try #require(merged.header)
        #expect(header[0] == 1 && header[1] == 5, "needs checksum, UDP segmentation")
        let headersLength = Int(header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 2, as: UInt16.self) })
        let size = Int(header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt16.self) })
        let udp = Int(header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 6, as: UInt16.self) })
        let ipv6 = merged.frame[12] == 0x86
        let addresses = ipv6 ? Array(merged.frame[22..<54]) : Array(merged.frame[26..<34])
        var datagrams: [[UInt8]] = []
        var offset = headersLength
        while offset < merged.frame.count {
            let piece = Array(merged.frame[offset..<min(offset + size, merged.frame.count)])
            var out = Array(merged.frame[0..<headersLength]) + piece
            if ipv6 {
                out.replaceSubrange(18..<20, with: be(UInt16(8 + piece.count)))
            } else {
                let id = UInt16(merged.frame[18]) << 8 | UInt16(merged.frame[19])
                out.replaceSubrange(16..<18, with: be(UInt16(out.count - 14)))
                out.replaceSubrange(18..<20, with: be(id &+ UInt16(datagrams.count)))
                out.replaceSubrange(24..<26, with: [0, 0])
                out.replaceSubrange(24..<26, with: be(Array(out[14..<34]).withUnsafeBytes { InternetChecksum.checksum($0) }))
            }
            out.replaceSubrange((udp + 4)..<(udp + 8), with: be(UInt16(8 + piece.count)) + [0, 0])
            out.replaceSubrange((udp + 6)..<(udp + 8), with: be(checksum(Array(out[udp...]), addresses: addresses, ipv6: ipv6)))
            datagrams.append(out)
            offset += size
        }
        return datagrams
    }
}

func coalesceUDP(_ frames: [[UInt8]]) -> [Written] {
    let coalescer = UDPCoalescer()
    var written: [Written] = []
    let record: TCPCoalescer.Write = { frame, header, count, bytes in
        written.append(Written(frame: Array(frame), header: header.map(Array.init), frames: count, bytes: bytes))
    }
    for frame in frames {
        frame.withUnsafeBytes { frame in
            guard let layout = FrameLayout(frame: frame) else { return }
            coalescer.add(frame, layout: layout, write: record)
        }
    }
    coalescer.flush(write: record)
    return written
}

@Suite struct UDPCoalescerTests {
    @Test(arguments: [false, true])
    func consecutiveDatagramsBecomeOneFrameTheKernelCutsBack(ipv6: Bool) throws {
        var maker = DatagramMaker()
        maker.ipv6 = ipv6
        let datagrams = (0..<5).map { maker.frame($0, payload: payload(18, UInt8($0))) } + [maker.frame(5, payload: payload(7, 9))]
        let written = coalesceUDP(datagrams)
        try #require(written.count == 1)
        let headers = 14 + (ipv6 ? 40 : 20) + 8
        let sizes: [UInt8] = hostOrder(UInt16(headers)) + hostOrder(18) + hostOrder(UInt16(headers - 8)) + hostOrder(6)
        #expect(written[0].header == [1, 5] + sizes)
        #expect(written[0].frames == 6)
        #expect(written[0].bytes == datagrams.map(\.count).reduce(0, +))
        #expect(try DatagramMaker.cutBack(written[0]) == datagrams)
    }

    @Test func aDatagramWithAWrongOrNoChecksumGoesAloneAndInOrder() throws {
        let maker = DatagramMaker()
        var wrong = maker.frame(2, payload: payload(18, 2))
        wrong[wrong.count - 1] ^= 0x40
        var unchecked = maker.frame(3, payload: payload(18, 3))
        unchecked.replaceSubrange(40..<42, with: [0, 0])
        let before = [maker.frame(0, payload: payload(18, 0)), maker.frame(1, payload: payload(18, 1))]
        let after = [maker.frame(4, payload: payload(18, 4)), maker.frame(5, payload: payload(18, 5))]
        let frames: [[UInt8]] = before + [wrong, unchecked] + after
        let written = coalesceUDP(frames)
        #expect(written.map(\.frames) == [2, 1, 1, 2])
        #expect(written[1].header == nil && written[1].frame == wrong)
        #expect(written[2].header == nil && written[2].frame == unchecked)
        #expect(try DatagramMaker.cutBack(written[0]) == before)
        #expect(try DatagramMaker.cutBack(written[3]) == after)
    }

    @Test func anotherFlowOrALargerDatagramStartsANewMerge() throws {
        let maker = DatagramMaker()
        var other = maker
        other.sourcePort = 40_001
        let frames = [maker.frame(0, payload: payload(18, 0)), maker.frame(1, payload: payload(18, 1)),
                      other.frame(0, payload: payload(18, 2)), other.frame(1, payload: payload(18, 3)),
                      other.frame(2, payload: payload(40, 4)), other.frame(3, payload: payload(40, 5))]
        let written = coalesceUDP(frames)
        #expect(written.map(\.frames) == [2, 2, 2])
        #expect(try written.flatMap { try DatagramMaker.cutBack($0) } == frames)
    }

    @Test func aMergeHoldsNoMoreDatagramsThanTheKernelCuts() throws {
        let maker = DatagramMaker()
        let frames = (0..<100).map { maker.frame($0, payload: payload(18, UInt8($0))) }
        let written = coalesceUDP(frames)
        #expect(written.map(\.frames) == [UDPCoalescer.mostSegments, 100 - UDPCoalescer.mostSegments])
        #expect(try written.flatMap { try DatagramMaker.cutBack($0) } == frames)
    }
}
