import CausewayCore

/// What causewayctl prints without `--json`.
public enum HumanReport {
    public static func status(_ report: StatusReport) -> String {
        var out = "causewayd \(report.version), up \(HumanDuration.format(seconds: report.uptimeSeconds)), "
            + "network \(report.networkID), configuration \(report.configuration)\n\n"

        var devices = TextTable(["DEVICE", "ROLE", "STATE", "MAC"])
        for device in report.devices {
            devices.add([device.name, device.role.rawValue, device.state.rawValue, device.role == .tap ? report.tapMAC : "-"])
        }
        out += devices.text + "\n"

        let peer = report.peer
        var peers = TextTable(["PEER", "KEY", "STATE", "HANDSHAKE", "LAST RECEIVE", "RTT", "SESSION AGE", "PATH MTU", "WHOLE FRAMES"])
        peers.add([
            peer.endpoint, String(peer.publicKey.prefix(8)) + "…", peer.up ? "up" : "down",
            peer.secondsSinceLatestHandshake.map { HumanDuration.format(seconds: $0) + " ago" } ?? "never",
            peer.secondsSinceLastReceive.map { HumanDuration.format(seconds: $0) + " ago" } ?? "never",
            peer.roundTripMilliseconds.map { HumanDuration.format(seconds: $0 / 1000) } ?? "-",
            peer.sessionAgeSeconds.map { HumanDuration.format(seconds: $0) } ?? "no session",
            "\(peer.pathMTU)\(peer.pathMTUSearching ? " (probing)" : "")",
            "up to \(peer.largestWholeFrame) B",
        ])
        out += peers.text + "\n"

        out += counterTables(report)
        return out
    }

    /// A table per group of counters, a row per counter, in the order of
    /// `Counters.descriptors`; the summaries that belong with a group follow its counters.
    static func counterTables(_ report: StatusReport) -> String {
        var out = ""
        for group in CounterDescriptor.Group.allCases {
            var table = TextTable([group.heading, "COUNT"], alignments: [.left, .right])
            for descriptor in Counters.descriptors where descriptor.group == group {
                var value = "\(report.counters[keyPath: descriptor.field])"
                if descriptor.field == \Counters.cookieRepliesSent, report.peer.handshakeUnderLoad {
                    value += " (under load now)"
                }
                table.add([descriptor.label, value])
            }
            for row in summaryRows(group, report) {
                table.add(row)
            }
            out += table.text + "\n"
        }

        let dropDescriptor = Counters.dropDescriptor
        var drops = TextTable([dropDescriptor.heading, "COUNT"], alignments: [.left, .right])
        for reason in DropReason.allCases {
            drops.add([reason.rawValue, "\(report.counters.drops(reason))"])
        }
        return out + drops.text
    }

    /// The state shown beside a group's counters: the MAC table's fill, reassembly in progress.
    private static func summaryRows(_ group: CounterDescriptor.Group, _ report: StatusReport) -> [[String]] {
        switch group {
        case .switching:
            [["MAC entries", "\(report.macTable.entries) of \(report.macTable.capacity)"]]
        case .path:
            [["reassembly in progress", "\(report.reassembly.framesInProgress) (\(report.reassembly.bytesInUse) of \(report.reassembly.capacityBytes) B)"]]
        case .traffic, .link:
            []
        }
    }

    public static func macs(_ entries: [StatusSnapshot.MACEntry]) -> String {
        var table = TextTable(["MAC", "WHERE", "VLAN", "AGE", "EXPIRES IN"], alignments: [.left, .left, .right, .right, .right])
        for entry in entries {
            let location = entry.peer == nil ? "local" : "peer \(entry.peerEndpoint ?? "?")"
            table.add([
                entry.mac, location, entry.vlan.map(String.init) ?? "-",
                HumanDuration.format(seconds: entry.ageSeconds), HumanDuration.format(seconds: entry.expiresInSeconds),
            ])
        }
        return table.text + "\(entries.count) \(entries.count == 1 ? "entry" : "entries")\n"
    }

    public static func explanation(_ explanation: Explanation) -> String {
        "\(explanation.mac): \(explanation.verdict.rawValue)\n  \(explanation.reason)\n"
    }
}
