import Testing
@testable import CausewayCore

/// TCP segments as a LAN host sends them: Ethernet, IPv4 or IPv6, TCP with timestamps.
struct SegmentMaker {
    var ipv6 = false
    /// VLAN tags between the source address and the EtherType, outer first.
    var tags: [UInt8] = []
    var sourcePort: UInt16 = 40_000
    var timestamp: UInt32 = 7
    var firstSequence: UInt32 = 1_000
    var firstID: UInt16 = 300

    /// Two full segments and a short one with PSH: a run that merges into one frame.
    func run() -> [[UInt8]] {
        [frame(0, payload: payload(1448, 1)), frame(1, payload: payload(1448, 2)), frame(2, payload: payload(600, 3), flags: 0x18)]
    }

    func frame(_ index: Int, payload: [UInt8], flags: UInt8 = 0x10, sequence: UInt32? = nil) -> [UInt8] {
        let sequence = sequence ?? firstSequence &+ UInt32(index * 1448)
        var tcp: [UInt8] = []
        tcp += be(sourcePort) + be(UInt16(5201)) + be(sequence) + be(UInt32(77)) + [0x80, flags] + be(UInt16(501)) + [0, 0, 0, 0]
        tcp += [1, 1, 8, 10] + be(timestamp) + be(UInt32(9))
        tcp += payload
        let ip: [UInt8]
        let addresses: [UInt8]
        if ipv6 {
            addresses = [0xfd, 0, 0, 0x19] + Array(repeating: 0, count: 11) + [1] + [0xfd, 0, 0, 0x19] + Array(repeating: 0, count: 11) + [2]
            ip = [0x60, 0, 0, 0] + be(UInt16(tcp.count)) + [6, 64] + addresses
        } else {
            addresses = [198, 19, 0, 1, 198, 19, 0, 2]
            var header = [0x45, 0] + be(UInt16(20 + tcp.count)) + be(firstID &+ UInt16(index)) + [0x40, 0, 64, 6, 0, 0] + addresses
            header.replaceSubrange(10..<12, with: be(header.withUnsafeBytes { InternetChecksum.checksum($0) }))
            ip = header
        }
        var pseudo = addresses + [0, 6] + be(UInt16(tcp.count))
        if ipv6 { pseudo = addresses + be(UInt32(tcp.count)) + [0, 0, 0, 6] }
        let checksum = (pseudo + tcp).withUnsafeBytes { InternetChecksum.checksum($0) }
        tcp.replaceSubrange(16..<18, with: be(checksum))
        let ethernet: [UInt8] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1] + tags + (ipv6 ? [0x86, 0xDD] : [0x08, 0x00])
        return ethernet + ip + tcp
    }
}

func be<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }

func payload(_ count: Int, _ seed: UInt8) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0) &+ seed } }

/// What the coalescer wrote: each frame, its virtio-net header (nil when plain), frames, bytes.
struct Written {
    var frame: [UInt8]
    var header: [UInt8]?
    var frames: Int
    var bytes: Int
}

func coalesce(_ frames: [[UInt8]]) -> [Written] {
    let coalescer = TCPCoalescer()
    return writes(of: frames, add: coalescer.add, flush: coalescer.flush)
}

/// What a coalescer (its `add` and `flush`) writes for `frames`, flushed at the end.
func writes(
    of frames: [[UInt8]], add: (UnsafeRawBufferPointer, FrameLayout, TCPCoalescer.Write) -> Void, flush: (TCPCoalescer.Write) -> Void
) -> [Written] {
    var written: [Written] = []
    let record: TCPCoalescer.Write = { frame, header, count, bytes in
        written.append(Written(frame: Array(frame), header: header.map(Array.init), frames: count, bytes: bytes))
    }
    for frame in frames {
        frame.withUnsafeBytes { frame in
            // A runt (no layout at all) never reaches a coalescer: the data plane drops it.
            guard let layout = FrameLayout(frame: frame) else { return }
            add(frame, layout, record)
        }
    }
    flush(record)
    return written
}

@Suite struct TCPCoalescerTests {
    let maker = SegmentMaker()

    @Test(arguments: [false, true])
    func consecutiveSegmentsBecomeOneFrameTheKernelCanCutBack(ipv6: Bool) throws {
        var maker = maker
        maker.ipv6 = ipv6
        let segments = maker.run()
        let written = coalesce(segments)
        try #require(written.count == 1)
        let merged = written[0]
        let headers = 14 + (ipv6 ? 40 : 20) + 32
        #expect(merged.frames == 3)
        #expect(merged.bytes == segments.map(\.count).reduce(0, +))
        #expect(merged.frame.count == headers + 1448 + 1448 + 600)
        #expect(Array(merged.frame[headers...]) == payload(1448, 1) + payload(1448, 2) + payload(600, 3))
        // virtio_net_hdr: needs checksum, TCPv4 (1) or TCPv6 (4), header length, segment size,
        // checksum start and offset, in the host's byte order.
        let tcp = headers - 32
        #expect(merged.header == [1, ipv6 ? 4 : 1] + hostOrder(UInt16(headers)) + hostOrder(UInt16(1448)) + hostOrder(UInt16(tcp)) + hostOrder(UInt16(16)))
        #expect(merged.frame[tcp + 13] == 0x18, "the last segment's PSH is kept")
        if ipv6 {
            #expect(Array(merged.frame[18..<20]) == be(UInt16(merged.frame.count - 54)))
        } else {
            #expect(Array(merged.frame[16..<18]) == be(UInt16(merged.frame.count - 14)))
            #expect(merged.frame.withUnsafeBytes { InternetChecksum.checksum(UnsafeRawBufferPointer(rebasing: $0[14..<34])) } == 0)
        }
        // The TCP checksum field holds the pseudo-header sum; with it, the whole TCP
        // checksum of the merged segment comes out as the kernel will complete it.
        let complete = merged.frame.withUnsafeBytes { frame -> UInt16 in
            InternetChecksum.checksum(UnsafeRawBufferPointer(rebasing: frame[tcp...]))
        }
        var check = merged.frame
        check.replaceSubrange((tcp + 16)..<(tcp + 18), with: be(complete))
        #expect(check.withUnsafeBytes { PlainIPPacket.transportChecksumIsValid($0, networkOffset: 14, isIPv6: ipv6, protocol: IPProtocol.tcp, transport: tcp) })
    }

    @Test func aSingleSegmentIsWrittenUnchangedWithoutSegmentation() {
        let segment = maker.frame(0, payload: payload(1448, 1))
        let written = coalesce([segment])
        #expect(written.count == 1)
        #expect(written.first?.frame == segment)
        #expect(written.first?.header == nil)
    }

    @Test func aGapInTheSequenceStartsANewFrame() {
        let written = coalesce([maker.frame(0, payload: payload(1448, 1)), maker.frame(2, payload: payload(1448, 2)),
                                maker.frame(3, payload: payload(1448, 3))])
        #expect(written.map(\.frames) == [1, 2])
    }

    @Test func anotherFlowStartsANewFrame() {
        var other = maker
        other.sourcePort = 40_001
        let written = coalesce([maker.frame(0, payload: payload(1448, 1)), maker.frame(1, payload: payload(1448, 1)),
                                other.frame(2, payload: payload(1448, 2)), other.frame(3, payload: payload(1448, 2))])
        #expect(written.map(\.frames) == [2, 2])
    }

    @Test func differentTimestampsDoNotMerge() {
        var later = maker
        later.timestamp = 8
        let written = coalesce([maker.frame(0, payload: payload(1448, 1)), later.frame(1, payload: payload(1448, 1))])
        #expect(written.map(\.frames) == [1, 1])
    }

    @Test func aSegmentWithABadChecksumGoesAloneAndUnchanged() {
        var damaged = maker.frame(1, payload: payload(1448, 1))
        damaged[100] ^= 0xFF
        let written = coalesce([maker.frame(0, payload: payload(1448, 1)), damaged, maker.frame(2, payload: payload(1448, 1))])
        #expect(written.map(\.frames) == [1, 1, 1])
        #expect(written[1].frame == damaged)
    }

    @Test func otherFramesFlushTheMergeFirstAndKeepTheirPlace() {
        let arp: [UInt8] = Array(repeating: 0xFF, count: 6) + [2, 0, 0, 0, 0, 1, 0x08, 0x06] + Array(repeating: 0, count: 28)
        let written = coalesce([maker.frame(0, payload: payload(1448, 1)), maker.frame(1, payload: payload(1448, 1)), arp,
                                maker.frame(2, payload: payload(1448, 1))])
        #expect(written.map(\.frames) == [2, 1, 1])
        #expect(written[1].frame == arp)
    }

    @Test func controlSegmentsNeverMerge() {
        let fin = maker.frame(1, payload: payload(1448, 1), flags: 0x11)
        let bare = maker.frame(2, payload: [], flags: 0x10)
        let written = coalesce([maker.frame(0, payload: payload(1448, 1)), fin, bare])
        #expect(written.map(\.frames) == [1, 1, 1])
    }

    @Test func aShorterSegmentEndsTheMerge() {
        let written = coalesce([maker.frame(0, payload: payload(1448, 1)), maker.frame(1, payload: payload(100, 1)),
                                maker.frame(0, payload: payload(1448, 1), sequence: maker.firstSequence + 1548)])
        #expect(written.map(\.frames) == [2, 1])
    }

    @Test func staysWithinTheLargestIPPacket() {
        let frames = (0..<60).map { maker.frame($0, payload: payload(1448, UInt8($0))) }
        let written = coalesce(frames)
        #expect(written.map(\.frames).reduce(0, +) == 60)
        #expect(written.allSatisfy { $0.frame.count - 14 <= TCPCoalescer.largestPacket })
        #expect(written.map(\.frames) == [45, 15])
    }
}

/// Tagged segments merge as untagged ones do, within one pair of tags.
@Suite struct TaggedCoalescingTests {
    static let qinq: [UInt8] = [0x88, 0xA8, 0x00, 0x07, 0x81, 0x00, 0x01, 0x23]

    @Test(arguments: [(false, [0x81, 0x00, 0x00, 0x64] as [UInt8]), (true, qinq), (false, qinq)])
    func taggedSegmentsMergeAndCutBack(ipv6: Bool, tags: [UInt8]) throws {
        var maker = SegmentMaker()
        maker.ipv6 = ipv6
        maker.tags = tags
        let segments = maker.run()
        let written = coalesce(segments)
        try #require(written.count == 1)
        let merged = written[0]
        let ip = 14 + tags.count
        let tcp = ip + (ipv6 ? 40 : 20)
        #expect(merged.frames == 3)
        #expect(Array(merged.frame[0..<ip]) == Array(segments[0][0..<ip]), "addresses, tags and EtherType kept")
        #expect(merged.header == [1, ipv6 ? 4 : 1] + hostOrder(UInt16(tcp + 32)) + hostOrder(UInt16(1448)) + hostOrder(UInt16(tcp)) + hostOrder(UInt16(16)))
        if !ipv6 {
            #expect(Array(merged.frame[(ip + 2)..<(ip + 4)]) == be(UInt16(merged.frame.count - ip)))
            #expect(merged.frame.withUnsafeBytes { InternetChecksum.checksum(UnsafeRawBufferPointer(rebasing: $0[ip..<tcp])) } == 0)
        }
        #expect(try TCPSegmentationTests().segments(of: merged) == segments)
    }

    @Test func segmentsInDifferentVLANsDoNotMerge() {
        var inner = SegmentMaker()
        inner.tags = Self.qinq
        var otherInner = inner
        otherInner.tags[7] = 0x24
        var outerOnly = SegmentMaker()
        outerOnly.tags = [0x81, 0x00, 0x00, 0x07]
        let written = coalesce([inner.frame(0, payload: payload(1448, 1)), otherInner.frame(1, payload: payload(1448, 2)),
                                outerOnly.frame(2, payload: payload(1448, 3)), SegmentMaker().frame(3, payload: payload(1448, 4))])
        #expect(written.map(\.frames) == [1, 1, 1, 1])
        let same = coalesce([inner.frame(0, payload: payload(1448, 1)), inner.frame(1, payload: payload(1448, 2))])
        #expect(same.map(\.frames) == [2], "the same tags do merge")
    }

    /// A segment with IPv4 options, built valid (the TCP checksum does not cover them).
    static func withIPv4Options(_ frame: [UInt8]) -> [UInt8] {
        var segment = frame
        segment.insert(contentsOf: [1, 1, 1, 0], at: 34)
        segment[14] = 0x46
        segment.replaceSubrange(16..<18, with: be(UInt16(segment.count - 14)))
        segment.replaceSubrange(24..<26, with: [0, 0])
        segment.replaceSubrange(24..<26, with: be(segment.withUnsafeBytes { InternetChecksum.checksum(UnsafeRawBufferPointer(rebasing: $0[14..<38])) }))
        return segment
    }

    @Test func ipv4OptionsDoNotMergeButAreNotMisread() {
        let maker = SegmentMaker()
        let segments = [Self.withIPv4Options(maker.frame(0, payload: payload(1448, 1))), Self.withIPv4Options(maker.frame(1, payload: payload(1448, 2)))]
        let written = coalesce(segments)
        #expect(written.map(\.frames) == [1, 1])
        #expect(written.map(\.frame) == segments && written.allSatisfy { $0.header == nil })
    }

    /// Cut short at every length, a tagged segment in the middle of a run never merges and
    /// is written unchanged; the segments around it still arrive whole.
    @Test(arguments: [false, true])
    func aTruncatedSegmentGoesAloneAndUnchanged(ipv6: Bool) {
        var maker = SegmentMaker()
        maker.ipv6 = ipv6
        maker.tags = Self.qinq
        let first = maker.frame(0, payload: payload(1448, 1))
        let whole = maker.frame(1, payload: payload(1448, 2))
        for length in 0..<whole.count {
            let cut = Array(whole.prefix(length))
            let written = coalesce([first, cut])
            if length < EthernetHeader.minimumLength {
                #expect(written.map(\.frames) == [1], "length \(length)")
                continue
            }
            #expect(written.map(\.frames) == [1, 1], "length \(length)")
            #expect(written.last?.frame == cut && written.last?.header == nil, "length \(length)")
            #expect(written.first?.frame == first, "length \(length)")
        }
    }
}

func hostOrder(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value, Array.init) }

/// Frames for the LAN come from any host on the far site: whatever their bytes, the
/// coalescer neither crashes nor loses or invents frames.
@Suite struct TCPCoalescerRobustnessTests {
    @Test func mutatedFramesAreEachWrittenOnce() {
        var generator = SplitMix64(seed: 0xC0FFEE)
        var maker = SegmentMaker()
        for round in 0..<400 {
            maker.ipv6 = round % 2 == 1
            var frames = (0..<6).map { maker.frame($0, payload: payload(1448, UInt8($0))) }
            for _ in 0..<3 {
                let frame = Int(generator.next() % UInt64(frames.count))
                switch generator.next() % 3 {
                case 0:  // one byte anywhere, headers most likely
                    let index = Int(generator.next() % UInt64(min(frames[frame].count, 120)))
                    frames[frame][index] = UInt8(truncatingIfNeeded: generator.next())
                case 1:  // cut short
                    frames[frame] = Array(frames[frame].prefix(Int(generator.next() % UInt64(frames[frame].count))))
                default:  // a length field that lies
                    let at = maker.ipv6 ? 18 : 16
                    if frames[frame].count > at + 1 { frames[frame][at] = UInt8(truncatingIfNeeded: generator.next()) }
                }
            }
            let written = coalesce(frames)
            // Runts have no layout and never reach the coalescer.
            let framed = frames.filter { $0.count >= EthernetHeader.minimumLength }
            #expect(written.map(\.frames).reduce(0, +) == framed.count, "round \(round)")
            #expect(written.map(\.bytes).reduce(0, +) == framed.map(\.count).reduce(0, +), "round \(round)")
        }
    }
}

/// A small deterministic generator, so a failure names a round that replays.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
