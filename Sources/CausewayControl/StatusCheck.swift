/// `causewayctl status --check`: one line and an exit code, for monitoring scripts.
/// Every configured peer up is healthy; any peer down, or no peer at all, is not.
public struct StatusCheck: Equatable, Sendable {
    /// The exit code when a peer is down: 2, which Nagios-style checks read as CRITICAL, and
    /// which no other outcome of causewayctl uses (1 refused, 3 no daemon, 4 permission, 64 usage).
    public static let downExitCode: Int32 = 2

    public var healthy: Bool
    public var line: String

    public var exitCode: Int32 { healthy ? 0 : Self.downExitCode }

    public init(_ report: StatusReport) {
        let up = report.peers.filter(\.up).map(\.name)
        let down = report.peers.filter { !$0.up }.map(\.name)
        let instance = report.instance
        let count = "\(up.count) of \(report.peers.count) \(report.peers.count == 1 ? "peer" : "peers") up"
        if report.peers.isEmpty {
            healthy = false
            line = "\(instance): DOWN: no peer configured"
        } else if down.isEmpty {
            healthy = true
            line = "\(instance): OK: \(count) (\(up.joined(separator: ", ")))"
        } else {
            healthy = false
            line = "\(instance): DOWN: \(down.joined(separator: ", ")) down; \(count)"
        }
    }
}
