import Testing
@testable import CausewayCore

@Suite struct CoalescedDatagramsTests {
    func split(_ length: Int, segmentSize: Int) -> [Int] {
        let buffer = [UInt8](repeating: 0, count: length)
        var lengths: [Int] = []
        buffer.withUnsafeBytes { CoalescedDatagrams.forEach(in: $0, segmentSize: segmentSize) { lengths.append($0.count) } }
        return lengths
    }

    @Test func aBufferOfEqualDatagramsSplitsIntoThem() {
        #expect(split(4200, segmentSize: 1400) == [1400, 1400, 1400])
    }

    @Test func theLastDatagramMayBeShorter() {
        #expect(split(3000, segmentSize: 1400) == [1400, 1400, 200])
    }

    @Test func noSegmentSizeMeansOneDatagram() {
        #expect(split(1400, segmentSize: 0) == [1400])
        #expect(split(1400, segmentSize: 1400) == [1400])
        #expect(split(900, segmentSize: 1400) == [900])
    }

    @Test func theDatagramsAreTheBuffersBytesInOrder() {
        let buffer = (0..<10).map { UInt8($0) }
        var pieces: [[UInt8]] = []
        buffer.withUnsafeBytes { CoalescedDatagrams.forEach(in: $0, segmentSize: 4) { pieces.append(Array($0)) } }
        #expect(pieces == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
    }
}
