/// A point on the monotonic clock, in nanoseconds. The data plane reads the clock once per
/// batch and hands the value to the pure logic, which therefore never asks the system.
public struct Moment: Comparable, Hashable, Sendable {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    public static let zero = Moment(nanoseconds: 0)

    public static func < (lhs: Moment, rhs: Moment) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public static func + (lhs: Moment, rhs: Duration) -> Moment {
        Moment(nanoseconds: lhs.nanoseconds &+ rhs.nanosecondsClamped)
    }

    /// The time from `earlier` to `self`; zero when `earlier` is later.
    /// The moment `duration` before this one (never before the clock's zero).
    public func earlier(by duration: Duration) -> Moment {
        let nanoseconds = UInt64(clamping: duration.components.seconds) &* 1_000_000_000
            &+ UInt64(clamping: duration.components.attoseconds / 1_000_000_000)
        return Moment(nanoseconds: self.nanoseconds - min(self.nanoseconds, nanoseconds))
    }

    public func since(_ earlier: Moment) -> Duration {
        .nanoseconds(Int64(clamping: nanoseconds >= earlier.nanoseconds ? nanoseconds - earlier.nanoseconds : 0))
    }
}

extension Duration {
    /// Non-negative nanoseconds, saturating; durations in this code are never negative.
    public var nanosecondsClamped: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : whole &+ UInt64(attoseconds / 1_000_000_000)
    }

    /// Seconds as a floating-point number, for reports.
    public var secondsValue: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
