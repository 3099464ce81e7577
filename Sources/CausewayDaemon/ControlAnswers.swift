import CausewayControl
import CausewayCore
import CausewayLinux

/// Answers control requests from a fresh copy of the data plane's state and the kernel's
/// view of the devices. Runs on the control thread.
struct ControlAnswers: Sendable {
    let configuration: Configuration
    let configurationPath: String
    let dataPlane: DataPlane
    let startedAt: Moment
    let netlink: Netlink

    func reply(to line: [UInt8]) -> ControlReply {
        let request: ControlRequest
        do {
            request = try ControlRequest(line: line)
        } catch {
            return ControlReply(error: error)
        }
        guard let snapshot = dataPlane.snapshot(includingMACTable: request.needsMACTable) else {
            return ControlReply(error: ControlError(.unavailable, "the data plane did not answer within 2 s"))
        }
        switch request {
        case .status:
            return ControlReply(status: report(snapshot))
        case .macs:
            return ControlReply(macs: snapshot.macEntries())
        case .explain(let mac):
            return ControlReply(explanation: Explanation(mac: mac, snapshot: snapshot))
        case .metrics:
            return ControlReply(metrics: MetricsExposition.render(report(snapshot)))
        }
    }

    private func report(_ snapshot: StatusSnapshot) -> StatusReport {
        StatusReport(
            snapshot: snapshot, configuration: configuration, configurationPath: configurationPath,
            uptime: Clock.monotonic().since(startedAt),
            devices: [
                device(.bridge, configuration.bridge),
                device(.tap, configuration.tap),
                device(.lan, configuration.lanInterface),
            ]
        )
    }

    private func device(_ role: StatusReport.Device.Role, _ name: String) -> StatusReport.Device {
        let state: StatusReport.Device.State
        if let link = (try? netlink.link(named: name)) ?? nil {
            state = link.isUp ? .up : .down
        } else {
            state = .missing
        }
        return StatusReport.Device(role: role, name: name, state: state)
    }
}
