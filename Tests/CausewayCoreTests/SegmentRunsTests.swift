import Testing
@testable import CausewayCore

@Suite struct SegmentRunsTests {
    /// The runs a batch of datagram lengths makes, all to one destination unless `destinations`.
    func runs(_ lengths: [Int], destinations: [Int]? = nil) -> [Int] {
        let destinations = destinations ?? lengths.map { _ in 0 }
        var result: [Int] = []
        var first = 0
        while first < lengths.count {
            let run = SegmentRuns.length(
                from: first, count: lengths.count, length: { lengths[$0] },
                sameDestination: { destinations[$0] == destinations[$1] }
            )
            result.append(run)
            first += run
        }
        return result
    }

    @Test func equalDatagramsMakeOneRun() {
        #expect(runs(Array(repeating: 1550, count: 20)) == [20])
    }

    @Test func aShorterDatagramEndsARun() {
        #expect(runs([1550, 1550, 90, 1550, 1550]) == [3, 2])
    }

    @Test func aLongerDatagramStartsANewRun() {
        #expect(runs([90, 90, 1550, 1550]) == [2, 2])
    }

    @Test func anotherDestinationStartsANewRun() {
        #expect(runs([100, 100, 100, 100], destinations: [1, 1, 2, 2]) == [2, 2])
    }

    @Test func stopsAtTheKernelsByteLimit() {
        let perRun = SegmentRuns.maximumBytes / 1550
        #expect(runs(Array(repeating: 1550, count: 64)) == [perRun, 64 - perRun])
    }

    @Test func stopsAtTheKernelsSegmentLimit() {
        #expect(runs(Array(repeating: 100, count: 100)) == [SegmentRuns.maximumSegments, 100 - SegmentRuns.maximumSegments])
    }
}
