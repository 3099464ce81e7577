import Testing
@testable import CausewayCore

/// The plan for `frame` read with `header`, its layout walked first as the data plane does.
func segmentationPlan(_ frame: UnsafeRawBufferPointer, _ header: UnsafeRawBufferPointer) -> TCPSegmentation? {
    FrameLayout(frame: frame).flatMap { TCPSegmentation(frame: frame, layout: $0, header: header) }
}

/// Cutting is the inverse of merging: the segments TCPSegmentation cuts from a frame that
/// TCPCoalescer merged are the segments that went in, byte for byte.
@Suite struct TCPSegmentationTests {
    func segments(of merged: Written) throws -> [[UInt8]] {
        let header = try #require(merged.header)
        return try merged.frame.withUnsafeBytes { frame in
            try header.withUnsafeBytes { header in
                let plan = try #require(TCPSegmentation(frame: frame, layout: FrameLayout(frame: frame)!, header: header))
                return (0..<plan.segments).map { index in
                    var out = [UInt8](repeating: 0, count: 2048)
                    let length = out.withUnsafeMutableBytes { plan.writeSegment(index, of: frame, into: $0) }
                    return Array(out[0..<(length ?? 0)])
                }
            }
        }
    }

    @Test(arguments: [false, true])
    func cutsAMergedFrameBackIntoItsSegments(ipv6: Bool) throws {
        var maker = SegmentMaker()
        maker.ipv6 = ipv6
        let original = [maker.frame(0, payload: payload(1448, 1)), maker.frame(1, payload: payload(1448, 2)),
                        maker.frame(2, payload: payload(1448, 3)), maker.frame(3, payload: payload(17, 4), flags: 0x18)]
        let merged = coalesce(original)
        try #require(merged.count == 1)
        #expect(try segments(of: merged[0]) == original)
    }

    @Test(arguments: [false, true])
    func headersWrittenApartFromThePayloadMakeTheSameSegments(ipv6: Bool) throws {
        var maker = SegmentMaker()
        maker.ipv6 = ipv6
        let original = [maker.frame(0, payload: payload(1448, 1)), maker.frame(1, payload: payload(1448, 2)),
                        maker.frame(2, payload: payload(301, 3), flags: 0x18)]
        let merged = try #require(coalesce(original).first)
        let header = try #require(merged.header)
        let apart = try merged.frame.withUnsafeBytes { frame in
            try header.withUnsafeBytes { header in
                let plan = try #require(segmentationPlan(frame, header))
                return (0..<plan.segments).map { index in
                    var headers = [UInt8](repeating: 0xEE, count: plan.headersLength)
                    headers.withUnsafeMutableBytes { plan.writeHeaders(index, of: frame, into: $0) }
                    return headers + Array(plan.payload(index, of: frame))
                }
            }
        }
        #expect(apart == original)
    }

    @Test func finAndPushStayOnTheLastSegmentAndCWROnTheFirst() throws {
        let maker = SegmentMaker()
        var merged = coalesce([maker.frame(0, payload: payload(1448, 1)), maker.frame(1, payload: payload(1448, 2)),
                               maker.frame(2, payload: payload(1448, 3))])[0]
        merged.frame[14 + 20 + 13] = 0x80 | 0x10 | 0x08 | 0x01  // CWR, ACK, PSH, FIN on the large frame
        let flags = try segments(of: merged).map { $0[14 + 20 + 13] }
        #expect(flags == [0x90, 0x10, 0x19])
    }

    @Test func refusesAHeaderThatDoesNotFitTheFrame() {
        let frame = SegmentMaker().frame(0, payload: payload(1448, 1))
        // TCPv6 segmentation asked for an IPv4 frame; then a checksum start inside the IP header.
        for header: [UInt8] in [[1, 4] + hostOrder(66) + hostOrder(536) + hostOrder(34) + hostOrder(16), [1, 1] + hostOrder(66) + hostOrder(536) + hostOrder(20) + hostOrder(16)] {
            let plan = frame.withUnsafeBytes { frame in header.withUnsafeBytes { segmentationPlan(frame, $0) } }
            #expect(plan == nil)
        }
    }

    @Test func refusesSegmentsLargerThanAnIPPacketOrSmallerThanTCPSends() {
        // A header any LAN host's kernel could be tricked into, or a hostile TAP writer: a
        // 64 KiB frame asked to be cut into one segment of 65,535 bytes (no IP packet is that
        // long with its headers), or into segments of 8 bytes (eight thousand seals).
        var frame = SegmentMaker().frame(0, payload: payload(1448, 1))
        frame += [UInt8](repeating: 7, count: DataPath.largestLANFrame - frame.count)
        for size: UInt16 in [65_535, 8, 0] {
            let header: [UInt8] = [1, 1] + hostOrder(66) + hostOrder(size) + hostOrder(34) + hostOrder(16)
            let plan = frame.withUnsafeBytes { frame in header.withUnsafeBytes { segmentationPlan(frame, $0) } }
            #expect(plan == nil, "segment size \(size)")
        }
        let sane: [UInt8] = [1, 1] + hostOrder(66) + hostOrder(1448) + hostOrder(34) + hostOrder(16)
        #expect(frame.withUnsafeBytes { frame in sane.withUnsafeBytes { segmentationPlan(frame, $0) } }?.segments == 46)
    }

    @Test func aChecksumRequestMustBeTheTransports() throws {
        let frame = SegmentMaker().frame(0, payload: payload(100, 9))
        let layout = try #require(frame.withUnsafeBytes { FrameLayout(frame: $0) })
        func fits(start: UInt16, offset: UInt16) -> Bool {
            let header: [UInt8] = [1, 0] + hostOrder(0) + hostOrder(0) + hostOrder(start) + hostOrder(offset)
            return header.withUnsafeBytes { TCPSegmentation.checksumRequestFits($0, layout: layout, frameLength: frame.count) }
        }
        #expect(fits(start: 34, offset: 16))
        // Into the Ethernet or IP header, or past the frame's end.
        #expect(!fits(start: 0, offset: 0))
        #expect(!fits(start: 14, offset: 10))
        #expect(!fits(start: 34, offset: UInt16(frame.count)))
        let plain = [UInt8](repeating: 0, count: VirtioNetHeader.length)
        #expect(plain.withUnsafeBytes { TCPSegmentation.checksumRequestFits($0, layout: layout, frameLength: frame.count) })
    }

    @Test func aPlainFrameNeedsNoPlan() {
        let frame = SegmentMaker().frame(0, payload: payload(1448, 1))
        let header = [UInt8](repeating: 0, count: VirtioNetHeader.length)
        #expect(frame.withUnsafeBytes { frame in header.withUnsafeBytes { segmentationPlan(frame, $0) } } == nil)
    }

    @Test func completesAChecksumLeftToTheDevice() {
        let complete = SegmentMaker().frame(0, payload: payload(100, 9))
        let tcp = 14 + 20
        // As the kernel leaves it: the TCP checksum field holds only the pseudo-header sum.
        var partial = complete
        let pseudo = partial.withUnsafeBytes {
            InternetChecksum.pseudoHeaderSum($0, networkOffset: 14, isIPv6: false, protocol: IPProtocol.tcp, length: partial.count - tcp)
        }
        partial.replaceSubrange((tcp + 16)..<(tcp + 18), with: be(~InternetChecksum.fold(pseudo)))
        let header: [UInt8] = [1, 0] + hostOrder(0) + hostOrder(0) + hostOrder(UInt16(tcp)) + hostOrder(16)
        let done = partial.withUnsafeMutableBytes { frame in header.withUnsafeBytes { TCPSegmentation.completeChecksum(frame, header: $0) } }
        #expect(done)
        #expect(partial == complete)
        let outside: [UInt8] = [1, 0] + hostOrder(0) + hostOrder(0) + hostOrder(UInt16(partial.count)) + hostOrder(16)
        #expect(!partial.withUnsafeMutableBytes { frame in outside.withUnsafeBytes { TCPSegmentation.completeChecksum(frame, header: $0) } })
    }
}

/// The virtio-net header and the frame's own layout must agree before anything is cut.
@Suite struct TCPSegmentationLayoutTests {
    static func merged(ipv6: Bool, tags: [UInt8]) -> Written {
        var maker = SegmentMaker()
        maker.ipv6 = ipv6
        maker.tags = tags
        return coalesce([maker.frame(0, payload: payload(1448, 1)), maker.frame(1, payload: payload(1448, 2)),
                         maker.frame(2, payload: payload(700, 3))])[0]
    }

    @Test func theChecksumStartMustBeWhereTheLayoutPutsTCP() throws {
        let merged = Self.merged(ipv6: false, tags: TaggedCoalescingTests.qinq)
        var header = try #require(merged.header)
        #expect(merged.frame.withUnsafeBytes { frame in header.withUnsafeBytes { segmentationPlan(frame, $0) } }?.tcpOffset == 42)
        header.replaceSubrange(6..<8, with: hostOrder(34))  // where TCP would be, untagged
        #expect(merged.frame.withUnsafeBytes { frame in header.withUnsafeBytes { segmentationPlan(frame, $0) } } == nil)
    }

    @Test func refusesAnIPv4HeaderLengthBelowFive() throws {
        var merged = Self.merged(ipv6: false, tags: [])
        let header = try #require(merged.header)
        merged.frame[14] = 0x44
        #expect(merged.frame.withUnsafeBytes { frame in header.withUnsafeBytes { segmentationPlan(frame, $0) } } == nil)
    }

    /// Cut short at every length, a plan exists exactly when a payload byte is left, and
    /// every segment it writes lies within what is there.
    @Test(arguments: [false, true])
    func aTruncatedFrameIsCutOnlyFromWhatIsThere(ipv6: Bool) throws {
        let merged = Self.merged(ipv6: ipv6, tags: TaggedCoalescingTests.qinq)
        let header = try #require(merged.header)
        let headers = 22 + (ipv6 ? 40 : 20) + 32
        for length in 0...merged.frame.count {
            let frame = Array(merged.frame.prefix(length))
            let pieces: [[UInt8]]? = frame.withUnsafeBytes { frame in
                header.withUnsafeBytes { header in
                    segmentationPlan(frame, header).map { plan in
                        (0..<plan.segments).map { index in
                            var out = [UInt8](repeating: 0, count: 2048)
                            let written = out.withUnsafeMutableBytes { plan.writeSegment(index, of: frame, into: $0) } ?? 0
                            return Array(out[0..<written])
                        }
                    }
                }
            }
            #expect((pieces != nil) == (length > headers), "length \(length)")
            guard let pieces else { continue }
            #expect(pieces.map { $0.count - headers }.reduce(0, +) == length - headers, "length \(length)")
            #expect(pieces.allSatisfy { $0.count > headers && $0.count <= headers + 1448 }, "length \(length)")
        }
    }
}

/// Whatever header and frame the TAP hands over, cutting stays inside both buffers.
@Suite struct TCPSegmentationRobustnessTests {
    @Test func randomHeadersNeverReachOutsideTheFrame() {
        var generator = SplitMix64(seed: 7)
        let frames = [SegmentMaker().frame(0, payload: payload(3000, 1)), { var m = SegmentMaker(); m.ipv6 = true; return m.frame(0, payload: payload(3000, 2)) }()]
        for round in 0..<2000 {
            var frame = frames[round % 2]
            frame = Array(frame.prefix(Int(generator.next() % UInt64(frame.count + 1))))
            let header: [UInt8] = (0..<VirtioNetHeader.length).map { index in
                // Mostly plausible: a segmentation kind, small offsets.
                let value = UInt8(truncatingIfNeeded: generator.next())
                return index == 1 ? [1, 4, 0, 3, value][Int(value) % 5] : (index % 2 == 1 ? 0 : value % 80)
            }
            frame.withUnsafeBytes { frame in
                header.withUnsafeBytes { header in
                    guard let plan = segmentationPlan(frame, header) else { return }
                    var out = [UInt8](repeating: 0, count: 4096)
                    for index in 0..<min(plan.segments, 64) {
                        let length = out.withUnsafeMutableBytes { plan.writeSegment(index, of: frame, into: $0) }
                        #expect(length.map { $0 <= plan.headersLength + plan.segmentSize } ?? true)
                    }
                }
            }
            var copy = frame
            _ = copy.withUnsafeMutableBytes { frame in header.withUnsafeBytes { TCPSegmentation.completeChecksum(frame, header: $0) } }
        }
    }
}
