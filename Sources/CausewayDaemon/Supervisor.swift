import CausewayControl
import CausewayCore
import CausewayLinux
import Foundation

/// Keeps systemd informed while the daemon runs: the peer's state as STATUS=, and WATCHDOG=1
/// only after the data-plane thread answered a state request, so a data plane that hangs
/// stops the keep-alives and systemd restarts the service.
final class Supervisor: @unchecked Sendable {
    /// How often STATUS= is refreshed when no watchdog asks for more.
    static let statusInterval = Duration.seconds(5)

    private let notifier: SystemdNotifier
    private let dataPlane: DataPlane
    private let watchdog: Duration?
    private let stopped = DispatchSemaphore(value: 0)
    private var thread: NamedThread?

    init(notifier: SystemdNotifier, dataPlane: DataPlane, watchdog: Duration?) {
        self.notifier = notifier
        self.dataPlane = dataPlane
        self.watchdog = watchdog
    }

    /// Half the watchdog period, as sd_watchdog_enabled(3) recommends.
    var interval: Duration {
        watchdog.map { min($0 / 2, Self.statusInterval) } ?? Self.statusInterval
    }

    func start() {
        thread = NamedThread(name: "cw-supervisor") { [self] in run() }
    }

    func stop() {
        stopped.signal()
        thread?.join()
    }

    private func run() {
        let timeout = max(interval.secondsValue, 0.01)
        repeat {
            guard let snapshot = dataPlane.snapshot(timeout: min(interval, .seconds(2))) else { continue }
            var fields = ["STATUS=\(ServiceStatus.line(snapshot))"]
            if watchdog != nil { fields.append("WATCHDOG=1") }
            notifier.notify(fields)
        } while stopped.wait(timeout: .now() + timeout) == .timedOut
    }
}
