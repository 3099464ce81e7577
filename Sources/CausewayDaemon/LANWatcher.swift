import CausewayCore
import CausewayLinux
import Foundation
import Logging

/// Reads, every second, which hosts this site's bridge saw on its LAN ports within the hold
/// time, and hands them to the data plane: a host that only talks to hosts of its own site
/// never shows itself to the tunnel port, yet the peer must not be able to claim it. The
/// netlink dump runs on this thread, never the data plane's.
final class LANWatcher: @unchecked Sendable {
    static let interval = Duration.seconds(1)

    private let fdb: BridgeFDB
    private let holdTime: Duration
    private let tableSize: Int
    private let dataPlane: DataPlane
    private let logger: Logger
    private let stopped = DispatchSemaphore(value: 0)
    private var thread: NamedThread?

    init(bridge: String, tap: String, holdTime: Duration, tableSize: Int, dataPlane: DataPlane, logger: Logger) throws {
        fdb = try BridgeFDB(bridge: bridge, tunnel: tap)
        self.tableSize = tableSize
        self.holdTime = holdTime
        self.dataPlane = dataPlane
        self.logger = logger
    }

    func start() {
        thread = NamedThread(name: "cw-lanwatch") { [self] in run() }
    }

    func stop() {
        stopped.signal()
        thread?.join()
    }

    private func run() {
        var reportedFailure = false
        repeat {
            do {
                let dumpedAt = Clock.monotonic()
                dataPlane.deliver(try fdb.learnedOnLAN(maximumAge: holdTime, limit: tableSize), dumpedAt: dumpedAt)
                reportedFailure = false
            } catch {
                if !reportedFailure {
                    logger.warning("cannot read the bridge's forwarding database, so hosts seen only by the bridge are not protected from the peer's claims: \(error)")
                    reportedFailure = true
                }
            }
        } while stopped.wait(timeout: .now() + Self.interval.secondsValue) == .timedOut
    }
}
