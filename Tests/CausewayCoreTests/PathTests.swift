import Testing
@testable import CausewayCore

@Suite struct PathMTUTests {
    let start = Moment(nanoseconds: 5_000_000_000)

    /// Drives a search against a path that carries `pathMTU` and a device that takes
    /// `deviceMTU`, answering probes at once; returns the settled size and the time it took.
    func search(pathMTU: Int, deviceMTU: Int, from discovery: PathMTUDiscovery? = nil) -> (PathMTUDiscovery, Duration) {
        var discovery = discovery ?? PathMTUDiscovery(overIPv6: false)
        var now = start
        for _ in 0..<200 {
            if let size = discovery.probeDue(now: now, roundTripTime: .milliseconds(1)) {
                if size > deviceMTU {
                    discovery.sendFailed(size: size, now: now)
                } else if size <= pathMTU {
                    discovery.acknowledged(size: size, now: now + .microseconds(500))
                }
            }
            if !discovery.isSearching { break }
            now = max(now + .milliseconds(1), discovery.nextDeadline(now: now, roundTripTime: .milliseconds(1)))
        }
        return (discovery, now.since(start))
    }

    @Test(arguments: [1500, 1400, 1280, 1492])
    func findsTheLocalDeviceMTU(mtu: Int) {
        let (found, took) = search(pathMTU: 9100, deviceMTU: mtu)
        #expect(found.confirmed == mtu)
        #expect(!found.isSearching)
        #expect(took < .seconds(1), "a device limit is learned from EMSGSIZE, with no timeouts")
    }

    @Test func findsALimitInTheMiddleOfThePathWithoutICMP() {
        let (found, took) = search(pathMTU: 1400, deviceMTU: 1500)
        #expect(found.confirmed == 1400)
        #expect(took < .seconds(5))
        #expect(found.largestDatagram == 1372)
        #expect(found.largestWholeFrame == 1336)
    }

    @Test func aPathThatShrinksIsFoundAgainWithinSeconds() {
        var (discovery, _) = search(pathMTU: 1500, deviceMTU: 1500)
        #expect(discovery.confirmed == 1500)
        // The path now carries 1300 and drops anything larger, silently.
        var now = start + .seconds(10)
        var detectedAt: Moment?
        for _ in 0..<2000 {
            if let size = discovery.probeDue(now: now, roundTripTime: .milliseconds(1)), size <= 1300 {
                discovery.acknowledged(size: size, now: now)
            }
            if discovery.confirmed == 1300, !discovery.isSearching { detectedAt = now; break }
            now = now + .milliseconds(10)
        }
        #expect(detectedAt.map { $0.since(start + .seconds(10)) < .seconds(10) } == true)
    }

    @Test func emsgsizeAtTheSizeInUseDropsToTheFloorAndSearchesBelow() {
        var (discovery, _) = search(pathMTU: 1500, deviceMTU: 1500)
        discovery.sendFailed(size: 1500, now: start + .seconds(1))
        #expect(discovery.confirmed == PathMTUDiscovery.floor)
        let (found, _) = search(pathMTU: 1500, deviceMTU: 1400, from: discovery)
        #expect(found.confirmed == 1400)
    }

    @Test func ipv6CostsTwentyBytesMore() {
        #expect(PathMTUDiscovery(overIPv6: true).largestDatagram == PathMTUDiscovery(overIPv6: false).largestDatagram - 20)
    }
}

@Suite struct FragmentationTests {
    @Test func splitsIntoFewNearEqualPieces() {
        let largest = 1500 - 28
        let capacity = Fragmentation.pieceCapacity(largestDatagram: largest)
        #expect(capacity == 1472 - 44)
        let (count, piece) = Fragmentation.split(frameLength: 1514, largestDatagram: largest)
        #expect(count == 2)
        #expect(piece == 757)
        let jumbo = Fragmentation.split(frameLength: 9018, largestDatagram: 1280 - 48)
        #expect(jumbo.count == 8)
        #expect(jumbo.count <= Reassembler.maximumPieces)
        #expect(jumbo.pieceLength * (jumbo.count - 1) < 9018)
    }
}

@Suite struct ReassemblerTests {
    let now = Moment(nanoseconds: 1_000_000_000)
    let frame: [UInt8] = (0..<1514).map { UInt8(truncatingIfNeeded: $0 &* 7) }

    func add(_ reassembler: Reassembler, id: UInt32, offset: Int, length: Int, total: Int? = nil, at time: Moment? = nil, counters: inout Counters) -> Reassembler.Outcome {
        let header = FragmentHeader(frameID: id, frameLength: UInt16(total ?? frame.count), offset: UInt16(offset))
        return frame.withUnsafeBytes { bytes in
            reassembler.add(header, piece: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]), now: time ?? now, counters: &counters)
        }
    }

    func completed(_ outcome: Reassembler.Outcome) -> [UInt8]? {
        if case .complete(let bytes) = outcome { return Array(UnsafeRawBufferPointer(bytes)) }
        return nil
    }

    func dropped(_ outcome: Reassembler.Outcome) -> DropReason? {
        if case .dropped(let reason) = outcome { return reason }
        return nil
    }

    @Test func putsPiecesBackInAnyOrder() {
        let reassembler = Reassembler(slots: 4)
        var counters = Counters()
        #expect(completed(add(reassembler, id: 1, offset: 1000, length: 514, counters: &counters)) == nil)
        #expect(completed(add(reassembler, id: 1, offset: 0, length: 500, counters: &counters)) == nil)
        #expect(reassembler.framesInProgress == 1)
        #expect(completed(add(reassembler, id: 1, offset: 500, length: 500, counters: &counters)) == frame)
        #expect(reassembler.framesInProgress == 0)
    }

    @Test func anOverlappingPieceDropsTheFrame() {
        let reassembler = Reassembler(slots: 4)
        var counters = Counters()
        _ = add(reassembler, id: 2, offset: 0, length: 800, counters: &counters)
        #expect(dropped(add(reassembler, id: 2, offset: 700, length: 814, counters: &counters)) == .fragmentOverlap)
        #expect(reassembler.framesInProgress == 0)
        // The rest of the frame then starts a new, incomplete one: never a wrong frame.
        #expect(completed(add(reassembler, id: 2, offset: 800, length: 714, counters: &counters)) == nil)
    }

    @Test func refusesPiecesOutsideTheirFrame() {
        let reassembler = Reassembler(slots: 4)
        var counters = Counters()
        #expect(dropped(add(reassembler, id: 3, offset: 1000, length: 514, total: 1200, counters: &counters)) == .fragmentOversized)
        #expect(dropped(add(reassembler, id: 3, offset: 0, length: 100, total: 9019, counters: &counters)) == .fragmentOversized)
        _ = add(reassembler, id: 4, offset: 0, length: 500, counters: &counters)
        #expect(dropped(add(reassembler, id: 4, offset: 500, length: 500, total: 1400, counters: &counters)) == .fragmentOversized,
                "a piece disagreeing on the frame's length")
    }

    @Test func incompleteFramesTimeOutAndNeverGrowMemory() {
        let reassembler = Reassembler(slots: 8)
        var counters = Counters()
        let capacity = reassembler.capacityBytes
        for id in 0..<100 as Range<UInt32> {
            _ = add(reassembler, id: id, offset: 0, length: 700, counters: &counters)
            #expect(reassembler.framesInProgress <= 8)
        }
        #expect(counters.drops(.reassemblyFull) == 92)
        #expect(reassembler.capacityBytes == capacity)
        #expect(reassembler.bytesInUse == 8 * frame.count)
        reassembler.expire(now: now + Reassembler.timeout, counters: &counters)
        #expect(counters.drops(.reassemblyTimeout) == 8)
        #expect(reassembler.bytesInUse == 0)
    }
}
