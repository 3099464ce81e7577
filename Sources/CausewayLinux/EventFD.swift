import CLinuxShim
import Glibc

/// An eventfd through which the control plane wakes the data-plane thread out of poll().
public final class EventFD: @unchecked Sendable {
    public let descriptor: Int32

    public init() throws {
        descriptor = cw_eventfd()
        guard descriptor >= 0 else { throw SystemCallError("eventfd", "data-plane wakeup") }
    }

    deinit { close(descriptor) }

    public func signal() {
        var one: UInt64 = 1
        _ = retryingInterrupts { write(descriptor, &one, 8) }
    }

    /// Clears pending signals; called by the thread that was woken.
    public func drain() {
        var value: UInt64 = 0
        _ = retryingInterrupts { read(descriptor, &value, 8) }
    }
}
