import CausewayControl
import CausewayCore
import CausewayLinux
import CNetlink
import Glibc

/// Answers control requests from a fresh copy of the data plane's state and the kernel's
/// view of the devices. Runs on the control thread alone.
///
/// A `status` or `metrics` reply is built (a snapshot, three device look-ups, the report,
/// its JSON: about half a millisecond of a core) at most once per `reuseWindow`; requests
/// within it get the same bytes. However fast clients ask, the control plane then takes a
/// bounded share of a core from forwarding, and an answer is never older than the window.
final class ControlAnswers: @unchecked Sendable {
    static let reuseWindow = Duration.milliseconds(50)

    let configuration: Configuration
    let configurationPath: String
    let tapAddress: MACAddress
    /// This site's public key, for `status`.
    let siteKey: PublicKey
    let dataPlane: DataPlane
    let reloader: Reloader
    let startedAt: Moment
    let netlink: Netlink
    private var reused: (request: ControlRequest, line: [UInt8], builtAt: Moment)?

    init(
        configuration: Configuration, configurationPath: String, tapAddress: MACAddress, siteKey: PublicKey, dataPlane: DataPlane,
        startedAt: Moment, netlink: Netlink, reloader: Reloader
    ) {
        self.configuration = configuration
        self.configurationPath = configurationPath
        self.tapAddress = tapAddress
        self.siteKey = siteKey
        self.dataPlane = dataPlane
        self.reloader = reloader
        self.startedAt = startedAt
        self.netlink = netlink
    }

    /// The reply line to one request line.
    func replyLine(to line: [UInt8]) -> [UInt8] {
        let request: ControlRequest
        do {
            request = try ControlRequest(line: line)
        } catch {
            return ControlReply(error: error).line
        }
        let now = Clock.monotonic()
        if let reused, reused.request == request, now.since(reused.builtAt) < Self.reuseWindow {
            return reused.line
        }
        let built = reply(to: request).line
        if request == .status || request == .metrics { reused = (request, built, now) }
        return built
    }

    private func reply(to request: ControlRequest) -> ControlReply {
        if request == .reload {
            switch reloader.reload() {
            case .success(let outcome): return ControlReply(reload: outcome)
            case .failure(let error): return ControlReply(error: error)
            }
        }
        guard let snapshot = dataPlane.snapshot(includingMACTable: request.needsMACTable) else {
            return ControlReply(error: ControlError(.unavailable, "the data plane did not answer within 2 s"))
        }
        switch request {
        case .status:
            return ControlReply(status: report(snapshot))
        case .macs:
            return ControlReply(macs: snapshot.macEntries(surroundings()))
        case .explain(let mac):
            return ControlReply(explanation: Explanation(mac: mac, snapshot: snapshot, surroundings: surroundings()))
        case .explainIP(let text):
            guard let bytes = IPAddressText.bytes(text) else {
                return ControlReply(error: ControlError(.badArgument, "'\(text)' is neither a MAC address nor an IP address"))
            }
            let ip = IPAddressText.text(bytes)
            let around = surroundings()
            guard let mac = around.mac(forIP: ip) else {
                return ControlReply(error: ControlError(
                    .notFound, "\(ip) is not in this gateway's neighbour table (ip neigh): the gateway has not talked to it lately; give its MAC address"
                ))
            }
            return ControlReply(explanation: Explanation(mac: mac, snapshot: snapshot, surroundings: around, ip: ip))
        case .metrics:
            return ControlReply(metrics: MetricsExposition.render(report(snapshot)))
        case .reload:
            preconditionFailure("answered above")
        }
    }

    /// What the kernel knows around the MAC table, read now, on this thread: the bridge's
    /// forwarding database (the port of each address), the IPv4 and IPv6 neighbour tables
    /// (its IP addresses), and the addresses of the gateway's own three devices. Best effort:
    /// what cannot be read is left out of the answer.
    private func surroundings() -> Surroundings {
        var result = Surroundings()
        let bridge = (try? netlink.link(named: configuration.bridge)) ?? nil
        // A bridge takes a port's address unless given one: one MAC may be two devices'.
        func own(_ address: MACAddress?, _ device: String) {
            guard let address else { return }
            result.own[address] = result.own[address].map { "\($0), \(device)" } ?? device
        }
        own(tapAddress, "tap \(configuration.tap)")
        own(bridge?.address, "bridge \(configuration.bridge)")
        own(((try? netlink.link(named: configuration.lanInterface)) ?? nil)?.address, "lan \(configuration.lanInterface)")
        if let bridge, let entries = try? netlink.neighbours(family: Int32(AF_BRIDGE)) {
            var names: [Int32: String] = [:]
            for entry in entries where entry.masterIndex == bridge.index && entry.state & UInt16(NUD_PERMANENT) == 0 {
                guard let mac = entry.linkAddress else { continue }
                if names[entry.interfaceIndex] == nil {
                    names[entry.interfaceIndex] = ((try? netlink.name(ofIndex: entry.interfaceIndex)) ?? nil) ?? "#\(entry.interfaceIndex)"
                }
                result.ports[mac] = names[entry.interfaceIndex]
            }
        }
        for family in [AF_INET, AF_INET6] {
            for entry in (try? netlink.neighbours(family: Int32(family))) ?? []
            where entry.isResolved && entry.state & UInt16(NUD_NOARP) == 0 {
                guard let mac = entry.linkAddress, let destination = entry.destination else { continue }
                let text = IPAddressText.text(destination)
                if !(result.ipAddresses[mac]?.contains(text) ?? false) { result.ipAddresses[mac, default: []].append(text) }
            }
        }
        return result
    }

    private func report(_ snapshot: StatusSnapshot) -> StatusReport {
        StatusReport(
            snapshot: snapshot, configuration: configuration, configurationPath: configurationPath, tapAddress: tapAddress,
            uptime: Clock.monotonic().since(startedAt),
            devices: [
                device(.bridge, configuration.bridge),
                device(.tap, configuration.tap),
                device(.lan, configuration.lanInterface),
            ],
            siteKey: siteKey
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
