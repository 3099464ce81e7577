import CausewayLinux
import Foundation

/// A dedicated, named thread whose end can be waited for. The data plane, the control
/// server and the supervisor each own one, so none of them ever runs on Swift's
/// cooperative pool, where a blocking poll() would starve other tasks.
final class NamedThread: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)

    /// Starts `body` at once on a new thread called `name` (15 bytes at most are kept), as
    /// `top -H` and /proc/PID/task/TID/comm show it.
    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [finished] in
            // Foundation's `name` does not reach the kernel's thread name on Linux.
            ThreadName.set(name)
            body()
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Waits until the body has returned.
    func join() {
        finished.wait()
    }
}
