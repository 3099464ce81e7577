import CausewayControl
import CausewayCore
import CausewayLinux

/// Whether a causewayd of a configuration runs now: its control socket answers `status`,
/// and the devices it reports are the configuration's.
enum RunningInstance {
    static func holds(_ configuration: Configuration) -> Bool {
        guard let stream = try? UnixStream.connect(path: configuration.controlSocket, timeout: .seconds(2)),
              (try? stream.writeAll(ControlRequest.status.line)) != nil,
              let line = try? stream.readLine(),
              let report = (try? ControlReply(line: line))?.status
        else { return false }
        return report.devices.contains { $0.role == .tap && $0.name == configuration.tap }
            && report.devices.contains { $0.role == .bridge && $0.name == configuration.bridge }
    }
}
