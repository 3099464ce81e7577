import CausewayCore
import Glibc

/// The descriptors one thread waits on, and which of them became ready: poll(2) behind one
/// wrapper. Built once and reused (`removeAll` keeps the storage).
public struct PollSet {
    private var descriptors: [pollfd] = []

    public init() {}

    /// Stops watching everything.
    public mutating func removeAll() {
        descriptors.removeAll(keepingCapacity: true)
    }

    /// Watches `descriptor` for the readiness asked for; returns its position for `isReady`.
    @discardableResult
    public mutating func watch(_ descriptor: Int32, readable: Bool = true, writable: Bool = false) -> Int {
        var events: Int32 = 0
        if readable { events |= Int32(POLLIN) }
        if writable { events |= Int32(POLLOUT) }
        descriptors.append(pollfd(fd: descriptor, events: Int16(events), revents: 0))
        return descriptors.count - 1
    }

    /// Waits until a descriptor is ready or `timeout` passes (rounded up to a millisecond,
    /// at most a second, at least zero); `.completed` with how many are ready.
    @discardableResult
    public mutating func wait(timeout: Duration) -> IOResult {
        wait(milliseconds: Int32(min(max((timeout.secondsValue * 1000).rounded(.up), 0), 1000)))
    }

    /// Waits until a descriptor is ready or `deadline` comes, rounded up to a millisecond:
    /// at least one from `now` (a deadline that stays in the past must not spin the loop), at
    /// most a second. In whole nanoseconds, without `Duration`'s 128-bit arithmetic: a
    /// data-plane thread waits here between every two turns.
    @discardableResult
    public mutating func wait(until deadline: Moment, now: Moment) -> IOResult {
        let ahead = deadline.nanoseconds - min(now.nanoseconds, deadline.nanoseconds)
        return wait(milliseconds: Int32(min(max((ahead + 999_999) / 1_000_000, 1), 1000)))
    }

    private mutating func wait(milliseconds: Int32) -> IOResult {
        let ready = retryingInterrupts { poll(&descriptors, nfds_t(descriptors.count), milliseconds) }
        return ready >= 0 ? .completed(Int(ready)) : IOResult(failedWith: errno)
    }

    /// Whether the descriptor at `position` became ready (or failed, or hung up) in the last wait.
    public func isReady(_ position: Int) -> Bool {
        descriptors[position].revents != 0
    }
}
