@testable import CausewayCore
import Testing

/// A session sealed and opened by several lanes (Lane): each sending lane counts in its own
/// space, each receiving lane keeps the windows of the sending lanes that are its own.
@Suite struct SessionLaneTests {
    let now = Moment(nanoseconds: 1)

    func pair() throws -> (sender: Session, receiver: Session) {
        let (initiator, responder) = try TwoSites().establish()
        return (Session(keys: initiator, createdAt: now), Session(keys: responder, createdAt: now))
    }

    func counter(of datagram: [UInt8]) -> UInt64 {
        datagram.withUnsafeBytes { $0.loadBigEndian(at: WireFormat.counterOffset, as: UInt64.self) }
    }

    @Test func eachLaneCountsInItsOwnSpace() throws {
        let (sender, _) = try pair()
        #expect(counter(of: seal(sender, [1], lane: 0)) == 0)
        #expect(counter(of: seal(sender, [1], lane: 3)) == 3 << 56)
        #expect(counter(of: seal(sender, [1], lane: 3)) == 3 << 56 | 1)
        #expect(counter(of: seal(sender, [1], lane: 0)) == 1)
    }

    @Test func aLaneOpensOnlyTheSendingLanesThatAreItsOwn() throws {
        let (sender, receiver) = try pair()
        let fromLane3 = seal(sender, [7, 7], lane: 3)
        // 3 modulo 2 is 1: lane 0 of two refuses it before opening, and records nothing.
        #expect(open(receiver, fromLane3, lane: Lane(index: 0, of: 2)) == .failure(.wrongLane))
        #expect(open(receiver, fromLane3, lane: Lane(index: 1, of: 2)).map(\.payloadLength) == .success(2))
        #expect(open(receiver, fromLane3, lane: Lane(index: 1, of: 2)) == .failure(.replay))
        // A gateway with one lane opens every sending lane.
        #expect(open(receiver, seal(sender, [1], lane: 5)).map(\.payloadLength) == .success(1))
    }

    @Test func aCounterNamingALaneBeyondTheLastIsRefusedWithoutOpening() throws {
        let (sender, receiver) = try pair()
        var datagram = seal(sender, [1, 2, 3])
        datagram[WireFormat.counterOffset] = UInt8(Lane.maximumCount)
        #expect(open(receiver, datagram) == .failure(.wrongLane))
    }

    @Test func theLanesWindowsAreIndependent() throws {
        let (sender, receiver) = try pair()
        // Lane 1 runs far ahead; lane 0's first message is still new to its own window (one
        // shared window would take it for a replay, 5000 behind).
        var fromLane1: [[UInt8]] = []
        for _ in 0..<5000 { fromLane1.append(seal(sender, [1], lane: 1)) }
        #expect(open(receiver, fromLane1[4999]).map(\.payloadLength) == .success(1))
        #expect(open(receiver, seal(sender, [2], lane: 0)).map(\.payloadLength) == .success(1))
        // Each window still refuses what it saw and what fell behind it.
        #expect(open(receiver, fromLane1[4999]) == .failure(.replay))
        #expect(open(receiver, fromLane1[0]) == .failure(.replay))
        #expect(open(receiver, fromLane1[4998]).map(\.payloadLength) == .success(1))
    }

    @Test func aForgedLaneByteDoesNotAuthenticate() throws {
        let (sender, receiver) = try pair()
        var datagram = seal(sender, [9], lane: 0)
        datagram[WireFormat.counterOffset] = 1
        #expect(open(receiver, datagram) == .failure(.authentication))
        // The forgery moved no window: lane 1's first real message still opens.
        #expect(open(receiver, seal(sender, [9], lane: 1)).map(\.payloadLength) == .success(1))
    }

    @Test func aLaneStopsSealingAtTheEndOfItsSpaceAloneAndNeverSpillsIntoTheNext() throws {
        let (sender, _) = try pair()
        sender.advanceSendCounter(to: Session.rejectAfterMessages - 1, lane: 2)
        let last = seal(sender, [1], lane: 2)
        #expect(counter(of: last) >> 56 == 2)
        #expect(sender.isExhausted(lane: 2))
        #expect(!sender.isExhausted(lane: 0))
        var out = [UInt8](repeating: 0, count: 64)
        let refused = out.withUnsafeMutableBytes { buffer in
            [UInt8]([1]).withUnsafeBytes { sender.seal(.data, payload: $0, into: buffer, lane: 2) }
        }
        #expect(refused == nil)
    }

    @Test func theMachineSuggestsHalfItsCoresUpToEight() {
        #expect(Lane.suggestedCount(cores: 1) == 1)
        #expect(Lane.suggestedCount(cores: 2) == 1)
        #expect(Lane.suggestedCount(cores: 8) == 4)
        #expect(Lane.suggestedCount(cores: 64) == 8)
    }
}
