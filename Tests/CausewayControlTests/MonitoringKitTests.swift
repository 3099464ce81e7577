import CausewayCore
import Foundation
import Testing
@testable import CausewayControl

/// The alert rules and the dashboard in deploy/monitoring/ name only metrics that
/// `causewayctl metrics` really has: a renamed metric must fail here, not go quiet in
/// Prometheus (where an unknown name is simply an empty result).
@Suite struct MonitoringKitTests {
    static let kit = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "deploy/monitoring")

    @Test(arguments: ["causeway.rules.yml", "causeway.rules.test.yml", "grafana-dashboard.json"])
    func namesOnlyRealMetrics(file: String) throws {
        let text = try String(contentsOf: Self.kit.appending(path: file), encoding: .utf8)
        let report = StatusReport(
            snapshot: Fixtures.snapshot(counters: Counters()), configuration: try Fixtures.configuration(),
            configurationPath: "/etc/causeway/site.toml", tapAddress: MACAddress("02:00:5e:00:00:01")!, uptime: .seconds(1),
            devices: [.init(role: .bridge, name: "br0", state: .up)]
        )
        var exposition = MetricsExposition.render(report)
        // Present only while the link has had a session; the fixture's peer may not.
        for gauge in ["peer_rtt_seconds", "peer_last_receive_age_seconds", "peer_last_handshake_age_seconds", "session_age_seconds"] {
            exposition += "# TYPE causeway_\(gauge) gauge\n"
        }
        let families = Set(exposition.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) })
        let used = Set(text.matches(of: /causeway_[a-z_]+/).map { String($0.output) })
        #expect(!used.isEmpty)
        for name in used.sorted() {
            #expect(families.contains(name), "\(file) names \(name), which causewayctl metrics does not have")
        }
    }
}
