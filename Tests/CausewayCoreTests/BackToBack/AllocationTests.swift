import CAllocationCounter
import Testing
@testable import CausewayCore

/// "Nothing per frame allocates", measured: malloc and its relatives are counted on the test
/// thread while frames of every kind cross the link both ways.
///
/// Only in an optimized build, as the daemon ships: a debug build calls the standard
/// library's generics unspecialized (an array's iterator, `firstIndex(where:)`), and those
/// allocate. `make test` builds the tests a second time, in release, to run this suite.
@Suite struct AllocationTests {
    #if DEBUG
    static let optimized = false
    #else
    static let optimized = true
    #endif

    @Test(.enabled(if: optimized, "a debug build allocates in unspecialized generics; make test runs this in release"))
    func framesCrossBothWaysWithoutOneAllocation() throws {
        let link = try BackToBackLink()
        // A 1400-byte path, so that 3000-byte frames go as fragments.
        link.network.pathMTU = 1400
        try link.establish()
        let tcpHost = MACAddress([2, 0, 0, 0, 0, 2])
        let segments = (0..<20).map { SegmentMaker().frame($0, payload: payload(1448, UInt8($0))) }
        let largeTCP = try #require(coalesce(segments).first)
        // Segments that cross whole: cut where the frame was read, not moved aside.
        let shortSegments = (0..<10).map { SegmentMaker().frame($0, payload: payload(1000, UInt8($0)), sequence: 500_000 + UInt32($0) * 1000) }
        let largeTCPCutInPlace = try #require(coalesce(shortSegments).first)
        let datagrams = (0..<2).map { DatagramMaker().frame($0, payload: payload(18, UInt8($0))) }
        let toB = [
            Hosts.frame(from: Hosts.a1, to: Hosts.b1, length: 100),
            Hosts.frame(from: Hosts.a1, to: .broadcast, length: 60),
            Hosts.frame(from: Hosts.a1, to: Hosts.b1, length: 3000),
        ]
        let toA = [
            Hosts.frame(from: Hosts.b1, to: Hosts.a1, length: 1400),
            Hosts.frame(from: tcpHost, to: Hosts.a1, length: 64),
        ]
        let rounds = 20

        // One round first: hosts learned, every lazily made buffer made.
        for round in 0...rounds {
            if round == 1 { cw_allocations_begin() }
            for frame in toB { link.lanA.inject(frame) }
            for frame in toA { link.lanB.inject(frame) }
            link.lanA.inject(largeTCP.frame, header: largeTCP.header)
            link.lanA.inject(largeTCPCutInPlace.frame, header: largeTCPCutInPlace.header)
            for datagram in datagrams { link.lanA.inject(datagram) }
            link.turn()
            link.turn()
            link.turn()
            if round == 0 {
                _ = link.lanA.takeWritten()
                _ = link.lanB.takeWritten()
            }
        }
        let allocations = cw_allocations_end()

        let atB = link.lanB.takeWritten()
        let atA = link.lanA.takeWritten()
        // Every frame arrived (each large TCP frame, and the datagrams, as one merged write),
        // so the count covers the whole path: switching, sealing, fragments, reassembly,
        // segmentation, merging.
        #expect(atB.count == rounds * (toB.count + 3))
        #expect(atA.count == rounds * toA.count)
        #expect(link.a.totalCounters.framesFragmented >= UInt64(rounds))
        #expect(link.a.totalCounters.framesSegmented >= UInt64(rounds))
        #expect(allocations == 0, "\(allocations) allocations for \(rounds * (toB.count + toA.count + 32)) frames")
    }

    @Test(.enabled(if: optimized, "a debug build allocates in unspecialized generics; make test runs this in release"))
    func framesCrossTwoLanesEachWayWithoutOneAllocation() throws {
        let sites = try LanedSites(lanesA: 2, lanesB: 2)
        try sites.establish()
        let rounds = 20
        let toB = [
            Hosts.frame(from: Hosts.a1, to: Hosts.b1, length: 1000),
            Hosts.frame(from: Hosts.a1, to: .broadcast, length: 60),
            Hosts.frame(from: Hosts.a1, to: Hosts.b1, length: 3000),
        ]
        // A new host each round on each lane: learned, and passed on to the other lane.
        let fromNewHosts = (0...rounds).map { round in
            (0..<2).map { lane in Hosts.frame(from: MACAddress([2, 0, 0, 0x1A, UInt8(round), UInt8(lane)]), to: Hosts.a1, length: 200) }
        }
        for round in 0...rounds {
            if round == 1 { cw_allocations_begin() }
            for lane in 0..<2 {
                for frame in toB { sites.lansA[lane].inject(frame) }
                sites.lansB[lane].inject(fromNewHosts[round][lane])
            }
            sites.turn()
            sites.turn()
            if round == 0 {
                _ = LanedSites.taken(sites.lansA)
                _ = LanedSites.taken(sites.lansB)
            }
        }
        let allocations = cw_allocations_end()
        let atB = LanedSites.taken(sites.lansB).map(\.count), atA = LanedSites.taken(sites.lansA).map(\.count)
        #expect(atB == [3 * rounds, 3 * rounds])
        #expect(atA == [rounds, rounds])
        // What lane 0 learned, lane 1 holds too.
        #expect(sites.a[1].forwarder.table.lookup(MACAddress([2, 0, 0, 0x1A, UInt8(rounds), 0]), now: sites.now) != nil)
        #expect(allocations == 0, "\(allocations) allocations for \(rounds * 16) frames")
    }

    @Test func theCounterSeesAnAllocation() {
        cw_allocations_begin()
        let array = [UInt8](repeating: 1, count: 100)
        let allocations = cw_allocations_end()
        #expect(array.count == 100)
        #expect(allocations >= 1)
    }
}
