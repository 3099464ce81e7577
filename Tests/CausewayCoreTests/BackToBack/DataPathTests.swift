import Testing
@testable import CausewayCore

/// The whole link between two sites, back to back in memory: what the netns tests show with
/// real devices, shown here without a kernel, on a clock the test moves.
@Suite struct DataPathTests {
    @Test func aHandshakeBringsBothSidesUpAndSettlesThePath() throws {
        let link = try BackToBackLink()
        try link.establish()
        #expect(link.a.totalCounters.sessionsEstablished >= 1)
        #expect(link.b.totalCounters.sessionsEstablished >= 1)
        // The memory WAN carries 1500-byte packets: discovery finds exactly that.
        #expect(link.a.pathMTU.confirmed == 1500)
        #expect(link.b.pathMTU.confirmed == 1500)
        let events = link.events(of: link.a)
        #expect(events.contains { $0.peerUp == true })
        #expect(events.contains { $0.pathMTUSettled == 1500 })
    }

    @Test func framesCrossBothWaysUnchanged() throws {
        let link = try BackToBackLink()
        try link.establish()
        let broadcast = Hosts.frame(from: Hosts.a1, to: .broadcast, seed: 1)
        #expect(link.carry(broadcast, from: link.lanA) == [.init(frame: broadcast)])
        #expect(link.a.totalCounters.flooded == 1)

        let reply = Hosts.frame(from: Hosts.b1, to: Hosts.a1, length: 1400, seed: 2)
        #expect(link.carry(reply, from: link.lanB) == [.init(frame: reply)])
        // B learned A's host behind the peer: the reply was unicast, not flooded.
        #expect(link.b.totalCounters.flooded == 0)
        #expect(link.b.forwarder.table.lookup(Hosts.a1, now: link.now)?.location == .remote(peer: 0))
        #expect(link.a.forwarder.table.lookup(Hosts.b1, now: link.now)?.location == .remote(peer: 0))
    }

    @Test func framesForLocalHostsNeverReachTheWAN() throws {
        let link = try BackToBackLink()
        try link.establish()
        link.lanA.inject(Hosts.frame(from: Hosts.a1, to: .broadcast))
        link.turn()
        link.turn()
        _ = link.lanB.takeWritten()
        let sentBefore = link.a.totalCounters.framesToPeer
        // a2 talks to a1, which A learned on its own LAN: the bridge delivered it already.
        link.lanA.inject(Hosts.frame(from: Hosts.a2, to: Hosts.a1))
        link.turn()
        link.turn()
        #expect(link.a.totalCounters.suppressedLocal == 1)
        #expect(link.a.totalCounters.framesToPeer == sentBefore)
        #expect(link.lanB.takeWritten().isEmpty)
    }

    @Test func framesWaitingForASessionAreDroppedAndStartOne() throws {
        let link = try BackToBackLink()
        link.lanA.inject(Hosts.frame(from: Hosts.a1, to: .broadcast))
        link.a.forwardFromLAN(now: link.now)
        #expect(link.a.totalCounters.drops(.noSession) == 1)
        try link.establish()
        #expect(link.a.link.isUp(now: link.now))
    }

    @Test func aFrameLargerThanThePathCrossesAsFragments() throws {
        let link = try BackToBackLink()
        // A middle link of 1400 bytes: larger datagrams vanish without an error.
        link.network.pathMTU = 1400
        try link.establish()
        #expect(link.a.pathMTU.confirmed == 1400)
        let large = Hosts.frame(from: Hosts.a1, to: Hosts.b1, length: 1514, seed: 3)
        #expect(link.carry(large, from: link.lanA) == [.init(frame: large)])
        #expect(link.a.totalCounters.framesFragmented == 1)
        #expect(link.a.totalCounters.fragmentsSent == 2)
        #expect(link.b.totalCounters.framesReassembled == 1)
        #expect(link.network.blackHoled > 0, "probes above 1400 were lost, so the search could have failed")
    }

    @Test func aPathThatShrinksIsFollowed() throws {
        let link = try BackToBackLink()
        try link.establish()
        #expect(link.a.pathMTU.confirmed == 1500)
        link.network.pathMTU = 1380
        // An idle link: only keepalives and probes cross, and still the shrink is found soon.
        link.run(for: .seconds(12), step: .milliseconds(50))
        #expect(link.a.pathMTU.confirmed <= 1380)
        #expect(link.a.pathMTU.confirmed >= 1280)
        let large = Hosts.frame(from: Hosts.a1, to: Hosts.b1, length: 1500, seed: 4)
        #expect(link.carry(large, from: link.lanA) == [.init(frame: large)])
    }

    @Test func randomLossDoesNotErodeThePath() throws {
        let link = try BackToBackLink()
        try link.establish()
        #expect(link.a.pathMTU.confirmed == 1500)
        // Two minutes with a fifth of every datagram lost, either way, big or small.
        var random = SplitMix64(seed: 20)
        link.network.loses = { _ in random.next() % 100 < 20 }
        link.run(for: .seconds(120), step: .milliseconds(50))
        #expect(link.a.pathMTU.confirmed == 1500)
        #expect(link.b.pathMTU.confirmed == 1500)
        #expect(link.a.link.isUp(now: link.now))
    }

    @Test func anOutageDoesNotShrinkThePath() throws {
        let link = try BackToBackLink()
        try link.establish()
        // Thirty seconds in which nothing crosses: the peer is down, not the path smaller.
        link.network.loses = { _ in true }
        link.run(for: .seconds(30), step: .milliseconds(50))
        #expect(!link.a.link.isUp(now: link.now))
        link.network.loses = nil
        link.run(for: .seconds(3))
        #expect(link.a.link.isUp(now: link.now))
        #expect(link.a.pathMTU.confirmed == 1500)
        #expect(link.b.pathMTU.confirmed == 1500)
    }

    @Test func theDeviceRefusingALargeDatagramShrinksThePathAtOnce() throws {
        let link = try BackToBackLink()
        try link.establish()
        // The local device now takes 1400 (EMSGSIZE above): learned from the refusal itself.
        link.network.deviceMTU = 1400
        // Whole in one datagram at 1500 bytes, too large for the device now.
        link.lanA.inject(Hosts.frame(from: Hosts.a1, to: Hosts.b1, length: 1430, seed: 5))
        link.turn()
        #expect(link.a.totalCounters.drops(.sendFailed) == 1)
        // The search starts at A's next turn, in the same instant: its first probe leaves.
        let delivered = link.network.delivered
        link.turn(link.a)
        #expect(link.network.delivered == delivered + 1)
        link.run(for: .milliseconds(300))
        #expect(!link.a.pathMTU.isSearching)
        #expect(link.a.pathMTU.confirmed <= 1400 && link.a.pathMTU.confirmed > 1280)
        let large = Hosts.frame(from: Hosts.a1, to: Hosts.b1, length: 1500, seed: 6)
        #expect(link.carry(large, from: link.lanA).last == .init(frame: large))
    }

    @Test func aSilentPeerNeverPutsTheNextDeadlineInThePast() throws {
        let link = try BackToBackLink()
        try link.establish()
        // B stops: only A turns, for long enough to see the peer go down, handshakes give up
        // and keys be erased. Each time, A must have a reason to sleep.
        var earliestWait = Duration.seconds(1000)
        for _ in 0..<2400 {
            link.turn(link.a)
            let wait = link.a.nextDeadline(now: link.now).since(link.now)
            earliestWait = min(earliestWait, wait)
            link.advance(by: .milliseconds(250))
        }
        #expect(!link.a.link.isUp(now: link.now))
        #expect(earliestWait > .zero)
    }

    @Test func rekeyingKeepsEveryFrame() throws {
        let link = try BackToBackLink()
        try link.establish()
        var sent: [[UInt8]] = []
        var received: [[UInt8]] = []
        // Five minutes, a frame each way every second: past two rekeys on each side.
        for second in 0..<300 {
            let frame = Hosts.frame(from: Hosts.a1, to: Hosts.b1, seed: UInt8(truncatingIfNeeded: second))
            link.lanA.inject(frame)
            link.lanB.inject(Hosts.frame(from: Hosts.b1, to: Hosts.a1, seed: UInt8(truncatingIfNeeded: second)))
            sent.append(frame)
            link.run(for: .seconds(1), step: .milliseconds(250))
            received += link.lanB.takeWritten().map(\.frame)
            _ = link.lanA.takeWritten()
        }
        #expect(received.count == sent.count)
        let firstDifference = (0..<min(received.count, sent.count)).first { received[$0] != sent[$0] }
        #expect(firstDifference == nil, "A: \(link.a.totalCounters.drops) B: \(link.b.totalCounters.drops)")
        #expect(link.a.totalCounters.sessionsEstablished + link.b.totalCounters.sessionsEstablished >= 4)
        #expect(link.a.link.isUp(now: link.now))
    }

    @Test func lostDatagramsLoseWholeFramesAndNeverTheLink() throws {
        let link = try BackToBackLink()
        link.network.pathMTU = 1400
        try link.establish()
        var random = SplitMix64(seed: 12)
        link.network.loses = { _ in random.next() % 100 < 20 }
        var sent: Set<[UInt8]> = []
        for index in 0..<200 {
            // 3000 bytes: three fragments each over this path.
            let frame = Hosts.frame(from: Hosts.a1, to: Hosts.b1, length: 3000, seed: UInt8(truncatingIfNeeded: index))
            var numbered = frame
            numbered[14] = UInt8(index & 0xFF)
            numbered[15] = UInt8(index >> 8)
            link.lanA.inject(numbered)
            sent.insert(numbered)
            link.run(for: .milliseconds(20))
        }
        link.network.loses = nil
        link.run(for: .seconds(1))
        let received = link.lanB.takeWritten().map(\.frame)
        // Each frame arrives whole and unchanged, or not at all.
        #expect(received.allSatisfy { sent.contains($0) })
        #expect(Set(received).count == received.count)
        // With 20 % of datagrams lost, about half of the three-piece frames survive.
        #expect(received.count > 60 && received.count < 160, "\(received.count) of 200 arrived")
        #expect(link.b.totalCounters.drops(.reassemblyTimeout) > 0)
        #expect(link.a.link.isUp(now: link.now) && link.b.link.isUp(now: link.now))
    }

    @Test func aLargeTCPFrameIsCutIntoSegmentsAndMergedAgainAcrossTheLink() throws {
        let link = try BackToBackLink()
        try link.establish()
        link.learnTheSegmentsHostBehindB()
        let maker = SegmentMaker()
        let segments = (0..<20).map { maker.frame($0, payload: payload(1448, UInt8($0))) }
        // What the kernel hands the TAP with segmentation offload: one frame, one header.
        let large = try #require(coalesce(segments).first)
        link.lanA.inject(large.frame, header: large.header)
        link.turn()
        link.turn()
        #expect(link.a.totalCounters.framesSegmented == 1)
        #expect(link.a.totalCounters.framesFromLAN >= 20)
        let written = link.lanB.takeWritten()
        // B merges them again into one write the kernel cuts back into the same segments.
        #expect(written.count == 1)
        #expect(written.first?.frame == large.frame)
        #expect(written.first?.header == large.header)
        #expect(link.b.totalCounters.framesCoalesced == 20)
    }

    @Test func aLargeTCPFrameForALocalHostIsNeverCut() throws {
        let link = try BackToBackLink()
        try link.establish()
        // The segments' destination (02:00:00:00:00:02) lives on A's own LAN.
        link.lanA.inject(Hosts.frame(from: MACAddress([2, 0, 0, 0, 0, 2]), to: .broadcast))
        link.turn()
        let segments = (0..<20).map { SegmentMaker().frame($0, payload: payload(1448, UInt8($0))) }
        let large = try #require(coalesce(segments).first)
        let sentBefore = link.a.totalCounters.framesToPeer
        link.lanA.inject(large.frame, header: large.header)
        link.turn()
        #expect(link.a.totalCounters.framesSegmented == 0)
        #expect(link.a.totalCounters.suppressedLocal == 20)
        #expect(link.a.totalCounters.framesToPeer == sentBefore)
    }

    static let qinq: [UInt8] = [0x88, 0xA8, 0x00, 0x07, 0x81, 0x00, 0x00, 0x64]

    @Test(arguments: [false, true])
    func aDoubleTaggedSYNIsClampedToThePathOnTheWay(ipv6: Bool) throws {
        let link = try BackToBackLink()
        link.network.pathMTU = 1400
        try link.establish()
        let syn = TCPFrames.syn(ipv6: ipv6, tags: Self.qinq, options: [2, 4, 0x05, 0xB4])
        let written = link.carry(syn, from: link.lanA)
        let out = try #require(written.first?.frame)
        // The largest frame that crosses whole, less two tags, Ethernet, IP and TCP headers.
        let expected = link.a.pathMTU.largestWholeFrame - 14 - Self.qinq.count - (ipv6 ? 40 : 20) - 20
        #expect(TCPFrames.mss(out, at: 0) == expected)
        #expect(TCPFrames.verifies(out))
        #expect(link.a.totalCounters.mssClamped == 1)
    }

    @Test func doubleTaggedSegmentsAreMergedAtTheFarSide() throws {
        let link = try BackToBackLink()
        try link.establish()
        var maker = SegmentMaker()
        maker.tags = Self.qinq
        let segments = (0..<10).map { maker.frame($0, payload: payload(1200, UInt8($0)), sequence: 1_000 + UInt32($0) * 1200) }
        for segment in segments { link.lanA.inject(segment) }
        link.turn()
        link.turn()
        let written = link.lanB.takeWritten()
        #expect(written.count == 1)
        #expect(link.b.totalCounters.framesCoalesced == 10)
        // Cut back by the kernel at B's bridge, the merged frame is the ten segments.
        let merged = try #require(written.first)
        #expect(try TCPSegmentationTests().segments(of: Written(frame: merged.frame, header: merged.header, frames: 10, bytes: 0)) == segments)
    }

    @Test func theSnapshotHoldsNoMACRowsUnlessAsked() throws {
        let link = try BackToBackLink()
        try link.establish()
        _ = link.carry(Hosts.frame(from: Hosts.a1, to: .broadcast), from: link.lanA)
        let summary = StatusSnapshot(path: link.a, now: link.now, includingMACTable: false)
        #expect(summary.table == nil)
        #expect(summary.macTable.entries == 1)
        #expect(summary.counters.flooded == 1)
        #expect(summary.peers.count == 1 && summary.peers[0].up)
        #expect(summary.peers[0].counters.flooded == 1, "a flood is counted for the peer it went to")
        let full = StatusSnapshot(path: link.a, now: link.now, includingMACTable: true)
        #expect(full.table?.lookup(Hosts.a1, now: link.now)?.location == .local)
    }

    @Test func aFrameTheLANCutShortIsCountedAsOversized() throws {
        let link = try BackToBackLink()
        try link.establish()
        let jumbo = Hosts.frame(from: Hosts.a1, to: Hosts.b1, length: DataPath.largestLANFrame + 1, seed: 7)
        link.lanA.inject(jumbo)
        link.turn()
        #expect(link.a.totalCounters.drops(.oversized) == 1)
        #expect(link.lanB.takeWritten().isEmpty)
    }
}

extension DataPathTests {
    @Test func datagramsAndSegmentsMergeApartAndLeaveInTheOrderTheyCame() throws {
        let link = try BackToBackLink()
        try link.establish()
        link.learnTheSegmentsHostBehindB()
        let udp = DatagramMaker()
        let tcp = SegmentMaker()
        let frames = [udp.frame(0, payload: payload(18, 0)), udp.frame(1, payload: payload(18, 1)),
                      tcp.frame(0, payload: payload(1448, 2)), tcp.frame(1, payload: payload(1448, 3)),
                      udp.frame(2, payload: payload(18, 4)), udp.frame(3, payload: payload(18, 5))]
        for frame in frames { link.lanA.inject(frame) }
        link.turn()
        link.turn()
        let written = link.lanB.takeWritten()
        try #require(written.count == 3)
        #expect(written.map { $0.header?[1] } == [5, 1, 5], "UDP, TCP, UDP segmentation")
        #expect(try DatagramMaker.cutBack(Written(frame: written[0].frame, header: written[0].header, frames: 2, bytes: 0)) == Array(frames[0..<2]))
        #expect(try TCPSegmentationTests().segments(of: Written(frame: written[1].frame, header: written[1].header, frames: 2, bytes: 0)) == Array(frames[2..<4]))
        #expect(try DatagramMaker.cutBack(Written(frame: written[2].frame, header: written[2].header, frames: 2, bytes: 0)) == Array(frames[4..<6]))
        #expect(link.b.totalCounters.framesCoalesced == 6)
    }
}

extension DataPathTests {
    /// A frame whose segments fit the batch is cut where it was read; one with more segments
    /// than the batch has slots is moved aside and cut over several batches. Either way the
    /// far side gets every segment, merged back into the same frame.
    @Test(arguments: [20, 90])
    func aLargeTCPFrameCrossesWhetherItsSegmentsFitOneBatchOrNot(segmentCount: Int) throws {
        let link = try BackToBackLink()
        try link.establish()
        link.learnTheSegmentsHostBehindB()
        let size = 700
        // PSH on the last segment: the first, cut in place, must lose it.
        let segments = (0..<segmentCount).map {
            SegmentMaker().frame($0, payload: payload(size, UInt8($0)), flags: $0 == segmentCount - 1 ? 0x18 : 0x10, sequence: 1_000 + UInt32($0 * size))
        }
        let large = try #require(coalesce(segments).first)
        // What would show a copy of the whole frame moved aside.
        link.a.lanFrame.initializeMemory(as: UInt8.self, repeating: 0xEE)
        link.lanA.inject(large.frame, header: large.header)
        link.turn()
        link.turn()
        link.turn()
        let movedAside = link.a.lanFrame.prefix(large.frame.count).elementsEqual(large.frame)
        #expect(movedAside == (segmentCount > MemorySocket.sendSlotCount), "cut in place only when the segments fit one batch")
        #expect(link.a.totalCounters.framesSegmented == 1)
        #expect(link.a.totalCounters.framesToPeer >= UInt64(segmentCount))
        let written = link.lanB.takeWritten()
        let merged = try written.flatMap { try TCPSegmentationTests().segments(of: Written(frame: $0.frame, header: $0.header, frames: 0, bytes: 0)) }
        #expect(merged == segments)
    }
}

extension DataPathTests {
    /// A kernel before 6.2 refuses UDP segmentation on a TAP: datagrams go one by one.
    @Test func withoutUDPSegmentationDatagramsAreWrittenOneByOne() throws {
        let link = try BackToBackLink(lanBAcceptsUDPSegmentation: false)
        try link.establish()
        #expect(!link.b.mergesDatagrams)
        link.learnTheSegmentsHostBehindB()
        let frames = (0..<5).map { DatagramMaker().frame($0, payload: payload(18, UInt8($0))) }
        for frame in frames { link.lanA.inject(frame) }
        link.turn()
        link.turn()
        let written = link.lanB.takeWritten()
        #expect(written.map(\.frame) == frames)
        #expect(written.allSatisfy { $0.header == nil })
    }
}
