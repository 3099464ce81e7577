import Testing
@testable import CausewayCore

/// UDP datagrams as a LAN host sends them: Ethernet, IPv4 (identification counting up) or
/// IPv6, UDP with its checksum.
struct DatagramMaker {
    var ipv6 = false
    /// VLAN tags between the source address and the EtherType, outer first.
    var tags: [UInt8] = []
    var sourcePort: UInt16 = 40_000
    var firstID: UInt16 = 300
    /// How far apart consecutive datagrams' IPv4 identifications are.
    var idStep: UInt16 = 1
    var dontFragment = true

    func frame(_ index: Int, payload: [UInt8]) -> [UInt8] {
        var udp = be(sourcePort) + be(UInt16(5201)) + be(UInt16(8 + payload.count)) + [0, 0] + payload
        let ip: [UInt8]
        let addresses: [UInt8]
        if ipv6 {
            addresses = [0xfd, 0, 0, 0x19] + Array(repeating: 0, count: 11) + [1] + [0xfd, 0, 0, 0x19] + Array(repeating: 0, count: 11) + [2]
            ip = [0x60, 0, 0, 0] + be(UInt16(udp.count)) + [17, 64] + addresses
        } else {
            addresses = [198, 19, 0, 1, 198, 19, 0, 2]
            let id = firstID &+ UInt16(index) &* idStep
            var header = [0x45, 0] + be(UInt16(20 + udp.count)) + be(id) + [dontFragment ? 0x40 : 0, 0, 64, 17, 0, 0] + addresses
            header.replaceSubrange(10..<12, with: be(header.withUnsafeBytes { InternetChecksum.checksum($0) }))
            ip = header
        }
        udp.replaceSubrange(6..<8, with: be(Self.checksum(udp, addresses: addresses, ipv6: ipv6)))
        return [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1] + tags + (ipv6 ? [0x86, 0xDD] : [0x08, 0x00]) + ip + udp
    }

    static func checksum(_ udp: [UInt8], addresses: [UInt8], ipv6: Bool) -> UInt16 {
        let pseudo = ipv6 ? addresses + be(UInt32(udp.count)) + [0, 0, 0, 17] : addresses + [0, 17] + be(UInt16(udp.count))
        let checksum = (pseudo + udp).withUnsafeBytes { InternetChecksum.checksum($0) }
        return checksum == 0 ? 0xFFFF : checksum
    }

    /// What the kernel makes of a frame written with UDP segmentation, as __udp_gso_segment
    /// and the checksum completion after it do: the datagrams cut at the header's segment
    /// size, each with its own lengths and (IPv4) the first identification counted up and its
    /// header checksum; the UDP checksum field's seed adjusted from the merged UDP length to
    /// the datagram's, then the sum from the UDP header on completed over it. A wrong seed
    /// gives wrong checksums, which the comparison with the datagrams sent catches.
    static func cutBack(_ merged: Written) throws -> [[UInt8]] {
        let header = try #require(merged.header)
        #expect(header[0] == 1 && header[1] == 5, "needs checksum, UDP segmentation")
        let field = { (offset: Int) in Int(header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt16.self) }) }
        let (headersLength, size, udp) = (field(2), field(4), field(6))
        #expect(field(8) == 6, "the checksum is the UDP header's")
        let frame = merged.frame
        // The EtherType just before the IP header says which one it is.
        let ipv6 = !(frame[udp - 22] == 0x08 && frame[udp - 21] == 0x00)
        let ip = udp - (ipv6 ? 40 : 20)
        // What the stack checks of the merged frame on its way through the bridge.
        let word = { (offset: Int) in UInt16(frame[offset]) << 8 | UInt16(frame[offset + 1]) }
        if ipv6 {
            #expect(Int(word(ip + 4)) == frame.count - udp, "IPv6 payload length")
        } else {
            #expect(Int(word(ip + 2)) == frame.count - ip, "IPv4 total length")
            #expect(Array(frame[ip..<udp]).withUnsafeBytes { InternetChecksum.checksum($0) } == 0, "IPv4 header checksum")
        }
        #expect(Int(word(udp + 4)) == frame.count - udp, "UDP length: the whole merge")
        let seed = word(udp + 6)
        var datagrams: [[UInt8]] = []
        var offset = headersLength
        while offset < frame.count {
            let piece = Array(frame[offset..<min(offset + size, frame.count)])
            var out = Array(frame[0..<headersLength]) + piece
            let length = UInt16(8 + piece.count)
            if ipv6 {
                out.replaceSubrange((ip + 4)..<(ip + 6), with: be(length))
            } else {
                out.replaceSubrange((ip + 2)..<(ip + 4), with: be(UInt16(out.count - ip)))
                out.replaceSubrange((ip + 4)..<(ip + 6), with: be(word(ip + 4) &+ UInt16(datagrams.count)))
                out.replaceSubrange((ip + 10)..<(ip + 12), with: [0, 0])
                out.replaceSubrange((ip + 10)..<(ip + 12), with: be(Array(out[ip..<udp]).withUnsafeBytes { InternetChecksum.checksum($0) }))
            }
            // csum16_add(csum16_sub(check, uh->len), newlen), then completed from csum_start.
            let adjusted = onesAdd(onesAdd(seed, ~word(udp + 4)), length)
            out.replaceSubrange((udp + 4)..<(udp + 8), with: be(length) + be(adjusted))
            let checksum = Array(out[udp...]).withUnsafeBytes { InternetChecksum.checksum($0) }
            out.replaceSubrange((udp + 6)..<(udp + 8), with: be(checksum == 0 ? 0xFFFF : checksum))
            datagrams.append(out)
            offset += size
        }
        return datagrams
    }

    static func onesAdd(_ a: UInt16, _ b: UInt16) -> UInt16 {
        let sum = UInt32(a) + UInt32(b)
        return UInt16(truncatingIfNeeded: (sum & 0xFFFF) + (sum >> 16))
    }
}

func coalesceUDP(_ frames: [[UInt8]]) -> [Written] {
    let coalescer = UDPCoalescer()
    return writes(of: frames, add: coalescer.add, flush: coalescer.flush)
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

    @Test(arguments: [false, true])
    func taggedDatagramsMergeInTheirTags(ipv6: Bool) throws {
        var maker = DatagramMaker()
        maker.ipv6 = ipv6
        maker.tags = [0x88, 0xA8, 0x00, 0x07, 0x81, 0x00, 0x00, 0x64]
        let frames = (0..<4).map { maker.frame($0, payload: payload(100, UInt8($0))) }
        let written = coalesceUDP(frames)
        #expect(written.map(\.frames) == [4])
        #expect(try written.flatMap { try DatagramMaker.cutBack($0) } == frames)
    }

    /// Frames the kernel could not cut back into what was sent go alone, in their place:
    /// padded, lengths that lie, IPv6 without a checksum, IPv4 options, a fragment, and
    /// IPv4 datagrams without DF whose identifications do not count up.
    @Test func whatCannotBeCutBackGoesAloneInItsPlace() throws {
        let maker = DatagramMaker()
        func edited(_ index: Int, _ edit: (inout [UInt8]) -> Void) -> [UInt8] {
            var frame = maker.frame(index, payload: payload(18, UInt8(index)))
            edit(&frame)
            return frame
        }
        var v6 = DatagramMaker()
        v6.ipv6 = true
        var noDF = DatagramMaker()
        noDF.dontFragment = false
        noDF.idStep = 7
        let padded = maker.frame(10, payload: payload(18, 10)) + [0, 0, 0, 0]
        let udpLengthLies = edited(11) { $0.replaceSubrange(38..<40, with: be(UInt16(20))) }
        let ipLengthLies = edited(12) { $0.replaceSubrange(16..<18, with: be(UInt16(40))) }
        let v6Unchecked = { () -> [UInt8] in var frame = v6.frame(13, payload: payload(18, 13)); frame.replaceSubrange(60..<62, with: [0, 0]); return frame }()
        let fragment = edited(14) { $0[20] |= 0x20 }
        let notIP = [UInt8](repeating: 0xFF, count: 6) + [2, 0, 0, 0, 0, 1, 0x08, 0x06] + [UInt8](repeating: 1, count: 28)
        let unnumbered = (0..<2).map { noDF.frame($0, payload: payload(18, UInt8(20 + $0))) }
        let alone = [padded, udpLengthLies, ipLengthLies, v6Unchecked, fragment, notIP] + unnumbered
        let pair = { (index: Int) in [maker.frame(index, payload: payload(18, 0)), maker.frame(index + 1, payload: payload(18, 1))] }
        var frames: [[UInt8]] = []
        for (index, frame) in alone.enumerated() { frames += pair(index * 2) + [frame] }
        let written = coalesceUDP(frames)
        #expect(written.map(\.frames) == Array(repeating: [2, 1], count: alone.count).flatMap { $0 })
        #expect(written.enumerated().filter { $0.offset % 2 == 1 }.map(\.element.frame) == alone)
        #expect(written.allSatisfy { ($0.header == nil) == ($0.frames == 1) })
    }

    @Test func withDFOrCountingIdentificationsIPv4DatagramsMerge() throws {
        var counting = DatagramMaker()
        counting.dontFragment = false
        var scattered = DatagramMaker()
        scattered.idStep = 1000
        for maker in [counting, scattered] {
            let frames = (0..<3).map { maker.frame($0, payload: payload(18, UInt8($0))) }
            let written = coalesceUDP(frames)
            #expect(written.map(\.frames) == [3])
            if maker.dontFragment {
                // The kernel numbers them from the first one up: with DF, nothing reads them.
                #expect(try DatagramMaker.cutBack(written[0]).map { Array($0[18..<20]) } == [be(UInt16(300)), be(UInt16(301)), be(UInt16(302))])
            } else {
                #expect(try DatagramMaker.cutBack(written[0]) == frames)
            }
        }
    }

    @Test func aMergeHoldsNoMoreDatagramsThanTheKernelCuts() throws {
        let maker = DatagramMaker()
        let frames = (0..<100).map { maker.frame($0, payload: payload(18, UInt8($0))) }
        let written = coalesceUDP(frames)
        #expect(written.map(\.frames) == [UDPCoalescer.mostSegments, 100 - UDPCoalescer.mostSegments])
        #expect(try written.flatMap { try DatagramMaker.cutBack($0) } == frames)
    }
}
