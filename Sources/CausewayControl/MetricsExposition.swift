import CausewayCore

/// The status as Prometheus text exposition (format 0.0.4), for node_exporter's textfile
/// collector or any scraper. Every counter of `Counters` has exactly one metric here.
public enum MetricsExposition {
    struct CounterMetric: Sendable {
        let name: String
        let help: String
        let value: @Sendable (Counters) -> UInt64
    }

    /// The one mapping from counters to metric names; docs/control.md lists it.
    static let counterMetrics: [CounterMetric] = [
        .init(name: "lan_frames_received", help: "Frames read from the TAP, that is from this site's LAN.", value: \.framesFromLAN),
        .init(name: "lan_bytes_received", help: "Bytes of frames read from the TAP.", value: \.bytesFromLAN),
        .init(name: "peer_datagrams_sent", help: "Data datagrams sent to the peer.", value: \.framesToPeer),
        .init(name: "peer_bytes_sent", help: "Bytes of data datagrams sent to the peer, headers and tags included.", value: \.bytesToPeer),
        .init(name: "peer_frames_received", help: "Frames the peer sent that authenticated.", value: \.framesFromPeer),
        .init(name: "peer_bytes_received", help: "Bytes of frames the peer sent that authenticated.", value: \.bytesFromPeer),
        .init(name: "lan_frames_sent", help: "Frames written to the TAP, that is to this site's LAN.", value: \.framesToLAN),
        .init(name: "lan_bytes_sent", help: "Bytes of frames written to the TAP.", value: \.bytesToLAN),
        .init(name: "frames_flooded", help: "Broadcast, multicast and unknown-unicast frames sent to the peer.", value: \.flooded),
        .init(name: "frames_suppressed_local", help: "Frames for a MAC learned as local, kept off the WAN.", value: \.suppressedLocal),
        .init(name: "mac_moves", help: "MAC addresses that moved between local and remote.", value: \.macMoves),
        .init(name: "mac_table_full", help: "Source MAC addresses not learned because the table was at its cap.", value: \.macTableFull),
        .init(name: "keepalives_sent", help: "Keepalives sent to the peer.", value: \.keepalivesSent),
        .init(name: "keepalives_received", help: "Keepalives received from the peer.", value: \.keepalivesReceived),
        .init(name: "handshakes_initiated", help: "Handshake initiations sent.", value: \.handshakesInitiated),
        .init(name: "handshake_initiations_received", help: "Datagrams shaped as handshake initiations received, before any check.", value: \.initiationsReceived),
        .init(name: "handshakes_answered", help: "Handshake initiations answered with a response.", value: \.handshakesAnswered),
        .init(name: "handshake_responses_received", help: "Datagrams shaped as handshake responses received, before any check.", value: \.responsesReceived),
        .init(name: "cookie_replies_sent", help: "Cookie replies sent to handshake messages that arrived under load without a valid cookie.", value: \.cookieRepliesSent),
        .init(name: "cookie_replies_received", help: "Cookie replies from the peer that opened.", value: \.cookieRepliesReceived),
        .init(name: "sessions_established", help: "Sessions that became the current one.", value: \.sessionsEstablished),
        .init(name: "frames_fragmented", help: "Frames too large for one datagram on the path, sent as fragments.", value: \.framesFragmented),
        .init(name: "fragments_sent", help: "Fragments sent to the peer.", value: \.fragmentsSent),
        .init(name: "fragments_received", help: "Fragments from the peer that authenticated.", value: \.fragmentsReceived),
        .init(name: "frames_reassembled", help: "Split frames put back together and delivered.", value: \.framesReassembled),
        .init(name: "frames_segmented", help: "Large TCP frames from the LAN cut into segments.", value: \.framesSegmented),
        .init(name: "frames_coalesced", help: "Frames for the LAN merged with others of their TCP flow into one TAP write.", value: \.framesCoalesced),
        .init(name: "mss_clamped", help: "TCP SYN and SYN-ACK segments whose MSS was lowered to fit the path.", value: \.mssClamped),
        .init(name: "too_big_sent", help: "Frames too large for the path answered with ICMP too-big (icmp-too-big).", value: \.tooBigSent),
        .init(name: "path_probes_sent", help: "Path MTU probes sent.", value: \.pathProbesSent),
        .init(name: "path_probes_acknowledged", help: "Path MTU probes the peer acknowledged.", value: \.pathProbesAcknowledged),
    ]

    public static let prefix = "causeway_"

    public static func render(_ report: StatusReport) -> String {
        var out = Exposition()
        out.gauge("info", "The running version and the bridged network id.", 1,
                  labels: [("version", report.version), ("network_id", "\(report.networkID)")])
        out.gauge("uptime_seconds", "Seconds since the daemon started.", report.uptimeSeconds)
        out.family("device_up", "gauge", "Whether each device the daemon joins is up (1), down (0); a missing one is absent.")
        for device in report.devices where device.state != .missing {
            out.sample("device_up", device.state == .up ? 1 : 0, labels: [("role", device.role.rawValue), ("device", device.name)])
        }
        out.gauge("peer_up", "Whether authenticated traffic from the peer arrived recently.", report.peer.up ? 1 : 0,
                  labels: [("peer", report.peer.endpoint)])
        if let age = report.peer.secondsSinceLastReceive {
            out.gauge("peer_last_receive_age_seconds", "Seconds since the last authenticated message from the peer.", age)
        }
        if let age = report.peer.secondsSinceLatestHandshake {
            out.gauge("peer_last_handshake_age_seconds", "Seconds since the latest handshake made a session; above 180 the link has no usable session.", age)
        }
        out.gauge("handshake_under_load", "Whether handshake messages need a cookie (mac2) now, because of a flood (1) or not (0).", report.peer.handshakeUnderLoad ? 1 : 0)
        if let rtt = report.peer.roundTripMilliseconds {
            out.gauge("peer_rtt_seconds", "Round-trip time to the peer measured with the last keepalive.", rtt / 1000)
        }
        if let age = report.peer.sessionAgeSeconds {
            out.gauge("session_age_seconds", "Seconds since the current session was established.", age)
        }
        out.gauge("path_mtu_bytes", "The largest IP packet known to cross to the peer unfragmented.", Double(report.peer.pathMTU))
        out.gauge("largest_whole_frame_bytes", "The largest Ethernet frame that crosses in one datagram.", Double(report.peer.largestWholeFrame))
        out.gauge("reassembly_frames", "Split frames being put back together.", Double(report.reassembly.framesInProgress))
        out.gauge("reassembly_bytes", "Bytes of split frames being put back together.", Double(report.reassembly.bytesInUse))
        out.gauge("reassembly_capacity_bytes", "The fixed memory reassembly may use.", Double(report.reassembly.capacityBytes))
        out.gauge("mac_entries", "MAC addresses in the table.", Double(report.macTable.entries))
        out.gauge("mac_table_capacity", "The MAC table's size cap.", Double(report.macTable.capacity))
        for metric in counterMetrics {
            out.counter(metric.name, metric.help, metric.value(report.counters))
        }
        out.family("drops_total", "counter", "Datagrams and frames dropped, by reason.")
        for reason in DropReason.allCases {
            out.sample("drops_total", Double(report.counters.drops(reason)), labels: [("reason", reason.rawValue)])
        }
        return out.text
    }

    /// Accumulates the exposition text, one family (HELP and TYPE) at a time.
    private struct Exposition {
        var text = ""

        mutating func family(_ name: String, _ type: String, _ help: String) {
            text += "# HELP \(prefix)\(name) \(escapeHelp(help))\n# TYPE \(prefix)\(name) \(type)\n"
        }

        mutating func sample(_ name: String, _ value: Double, labels: [(String, String)] = []) {
            let labelText = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
            text += "\(prefix)\(name)\(labelText) \(format(value))\n"
        }

        mutating func gauge(_ name: String, _ help: String, _ value: Double, labels: [(String, String)] = []) {
            family(name, "gauge", help)
            sample(name, value, labels: labels)
        }

        mutating func counter(_ name: String, _ help: String, _ value: UInt64) {
            family(name + "_total", "counter", help)
            text += "\(prefix)\(name)_total \(value)\n"
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
