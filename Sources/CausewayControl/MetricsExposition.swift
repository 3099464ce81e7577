import CausewayCore

/// The status as Prometheus text exposition (format 0.0.4), for node_exporter's textfile
/// collector or any scraper. Every counter of `Counters` has exactly one metric here, named by
/// its descriptor (`Counters.descriptors`); the drops are one family labelled by reason.
/// Each counter has one series per peer (label `peer`, the peer's name) and one without the
/// label for what is no peer's (frames from the LAN, datagrams naming no peer): `sum()` of a
/// family is the gateway's total, as status shows it. Per-peer gauges carry `peer` too.
/// Every sample carries `instance`, the configuration's name (`site` for site.toml), so that
/// several daemons on one host, whose files node_exporter merges, stay apart.
public enum MetricsExposition {
    public static let prefix = "causeway_"

    public static func render(_ report: StatusReport) -> String {
        var out = Exposition(instance: Configuration.instanceName(forConfigurationFile: report.configuration))
        out.gauge("info", "The running version and the bridged network id.", 1,
                  labels: [("version", report.version), ("network_id", "\(report.networkID)")])
        out.gauge("uptime_seconds", "Seconds since the daemon started.", report.uptimeSeconds)
        out.family("device_up", "gauge", "Whether each device the daemon joins is up (1), down (0); a missing one is absent.")
        for device in report.devices where device.state != .missing {
            out.sample("device_up", device.state == .up ? 1 : 0, labels: [("role", device.role.rawValue), ("device", device.name)])
        }
        out.perPeer("peer_up", "Whether authenticated traffic from the peer arrived recently.", report.peers) { $0.up ? 1 : 0 }
        out.perPeer("peer_last_receive_age_seconds", "Seconds since the last authenticated message from the peer.", report.peers) { $0.secondsSinceLastReceive }
        out.perPeer("peer_last_handshake_age_seconds", "Seconds since the latest handshake made a session; above 180 the link has no usable session.", report.peers) { $0.secondsSinceLatestHandshake }
        out.gauge("handshake_under_load", "Whether handshake messages need a cookie (mac2) now, because of a flood (1) or not (0).", report.peers.contains(where: \.handshakeUnderLoad) ? 1 : 0)
        out.perPeer("peer_rtt_seconds", "Round-trip time to the peer measured with the last keepalive.", report.peers) { $0.roundTripSeconds }
        out.perPeer("session_age_seconds", "Seconds since the current session was established.", report.peers) { $0.sessionAgeSeconds }
        out.family("session_cipher_info", "gauge", "The transport cipher of the current session with the peer (1); absent without a session.")
        for peer in report.peers {
            if let cipher = peer.cipher { out.sample("session_cipher_info", 1, labels: [("peer", peer.name), ("cipher", cipher.rawValue)]) }
        }
        out.perPeer("path_mtu_bytes", "The largest IP packet known to cross to the peer unfragmented.", report.peers) { Double($0.pathMTU) }
        out.perPeer("largest_whole_frame_bytes", "The largest Ethernet frame that crosses in one datagram.", report.peers) { Double($0.largestWholeFrame) }
        out.gauge("reassembly_frames", "Split frames being put back together.", Double(report.reassembly.framesInProgress))
        out.gauge("reassembly_bytes", "Bytes of split frames being put back together.", Double(report.reassembly.bytesInUse))
        out.gauge("reassembly_capacity_bytes", "The fixed memory reassembly may use.", Double(report.reassembly.capacityBytes))
        out.gauge("mac_entries", "MAC addresses in the table.", Double(report.macTable.entries))
        out.gauge("mac_table_capacity", "The MAC table's size cap.", Double(report.macTable.capacity))
        // What is no peer's: the total less every peer's part.
        var gatewayOwn = report.counters
        for peer in report.peers { gatewayOwn.subtract(peer.counters) }
        for descriptor in Counters.descriptors {
            let name = descriptor.metric + "_total"
            out.family(name, "counter", descriptor.help)
            out.sample(name, Double(gatewayOwn[keyPath: descriptor.field]))
            for peer in report.peers {
                out.sample(name, Double(peer.counters[keyPath: descriptor.field]), labels: [("peer", peer.name)])
            }
        }
        let drops = Counters.dropDescriptor
        out.family(drops.metric + "_total", "counter", drops.help)
        for reason in DropReason.allCases {
            out.sample(drops.metric + "_total", Double(gatewayOwn.drops(reason)), labels: [(drops.labelName, reason.rawValue)])
            // A peer's series appear once it drops something of that reason: 27 reasons for
            // every peer would be mostly zeros.
            for peer in report.peers where peer.counters.drops(reason) > 0 {
                out.sample(drops.metric + "_total", Double(peer.counters.drops(reason)), labels: [("peer", peer.name), (drops.labelName, reason.rawValue)])
            }
        }
        return out.text
    }

    /// Accumulates the exposition text, one family (HELP and TYPE) at a time.
    private struct Exposition {
        let instance: String
        var text = ""

        mutating func family(_ name: String, _ type: String, _ help: String) {
            text += "# HELP \(prefix)\(name) \(escapeHelp(help))\n# TYPE \(prefix)\(name) \(type)\n"
        }

        mutating func sample(_ name: String, _ value: Double, labels: [(String, String)] = []) {
            let labels = [("instance", instance)] + labels
            let labelText = "{" + labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
            text += "\(prefix)\(name)\(labelText) \(format(value))\n"
        }

        mutating func gauge(_ name: String, _ help: String, _ value: Double, labels: [(String, String)] = []) {
            family(name, "gauge", help)
            sample(name, value, labels: labels)
        }

        /// A gauge with one sample per peer that has a value, labelled by its name.
        mutating func perPeer(_ name: String, _ help: String, _ peers: [StatusSnapshot.Peer], _ value: (StatusSnapshot.Peer) -> Double?) {
            family(name, "gauge", help)
            for peer in peers {
                if let number = value(peer) { sample(name, number, labels: [("peer", peer.name)]) }
            }
        }

        private func format(_ value: Double) -> String {
            value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
        }

        private func escapeHelp(_ text: String) -> String {
            text.replacing("\\", with: "\\\\").replacing("\n", with: "\\n")
        }

        private func escapeLabel(_ text: String) -> String {
            escapeHelp(text).replacing("\"", with: "\\\"")
        }
    }
}
