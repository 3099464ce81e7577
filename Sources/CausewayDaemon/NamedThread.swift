import Foundation

/// A dedicated, named thread whose end can be waited for. The data plane, the control
/// server and the supervisor each own one, so none of them ever runs on Swift's
/// cooperative pool, where a blocking poll() would starve other tasks.
final class NamedThread: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)

    /// Starts `body` at once on a new thread called `name`.
    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [finished] in
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
