@testable import CausewayCore
import Testing

/// Between turns a data-plane thread runs the timers only when `DataPath.tend` finds them
/// due: a turn that only carried frames costs a comparison, and whatever may want the timers
/// sooner brings them forward.
@Suite struct TendTests {
    @Test func framesAloneLeaveTheTimersToTheirDeadline() throws {
        let link = try BackToBackLink()
        try link.establish()
        link.a.bringTimersForward()
        let due = link.tend(link.a)
        #expect(due > link.now && due <= link.now + .seconds(1), "at least once a second")
        link.advance(by: due.since(link.now) / 2)
        #expect(link.carry(Hosts.frame(from: Hosts.a1, to: Hosts.b1), from: link.lanA).count == 1)
        #expect(link.carry(Hosts.frame(from: Hosts.b1, to: Hosts.a1), from: link.lanB).count == 1)
        #expect(link.tend(link.a) == due, "data only: not run again before the deadline")
        link.advance(by: due.since(link.now))
        #expect(link.tend(link.a) > due, "run at the deadline, which moves on")
    }

    @Test func aFrameWaitingForASessionStartsAHandshakeAtOnce() throws {
        let link = try BackToBackLink()
        // B never turns: A's initiations go unanswered until A gives up and pauses.
        var gaveUp = false
        for _ in 0..<100 where !gaveUp {
            link.turn(link.a)
            gaveUp = link.events(of: link.a).contains { $0.handshakeGaveUp }
            link.advance(by: .seconds(1))
        }
        #expect(gaveUp)
        link.turn(link.a)
        let initiated = link.a.peers[0].counters.handshakesInitiated
        // A frame for B, a moment later: the next turn initiates, not the next deadline.
        link.advance(by: .milliseconds(10))
        link.lanA.inject(Hosts.frame(from: Hosts.a1, to: .broadcast))
        link.turn(link.a)
        link.turn(link.a)
        #expect(link.a.peers[0].counters.handshakesInitiated == initiated + 1)
    }

    @Test func framesWaitingWhileAHandshakeIsUnderWayLeaveTheTimersAlone() throws {
        let link = try BackToBackLink()
        // A initiates; B never turns, so the initiation waits for its retry.
        link.turn(link.a)
        let due = link.tend(link.a)
        link.advance(by: .milliseconds(10))
        link.lanA.inject(Hosts.frame(from: Hosts.a1, to: .broadcast))
        link.turn(link.a)
        #expect(link.a.totalCounters.drops(.noSession) == 1)
        #expect(link.tend(link.a) == due, "the handshake on its way has its own deadline")
    }
}
