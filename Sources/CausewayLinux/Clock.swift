import CausewayCore
import Glibc

/// The two clocks the data plane reads: once per batch, never per frame.
public enum Clock {
    public static func monotonic() -> Moment {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Moment(nanoseconds: UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec))
    }

    public static func wall() -> HandshakeTimestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return HandshakeTimestamp(seconds: UInt64(spec.tv_sec), nanoseconds: UInt32(spec.tv_nsec))
    }
}

extension Clock {
    /// Sleeps the calling thread (never the data plane's) for `duration`.
    public static func sleep(for duration: Duration) {
        var request = timespec(tv_sec: Int(duration.components.seconds), tv_nsec: Int(duration.components.attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
