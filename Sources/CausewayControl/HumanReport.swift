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

        var peers = TextTable(["PEER", "ENDPOINT", "KEY", "STATE", "HANDSHAKE", "LAST RECEIVE", "RTT", "SESSION AGE", "PATH MTU", "WHOLE FRAMES"])
        for peer in report.peers {
            peers.add([
                peer.name, peer.endpoint ?? "(calls in)", shortKey(peer.publicKey), peer.up ? "up" : "down",
                peer.secondsSinceLatestHandshake.map { HumanDuration.format(seconds: $0) + " ago" } ?? "never",
                peer.secondsSinceLastReceive.map { HumanDuration.format(seconds: $0) + " ago" } ?? "never",
                peer.roundTripMilliseconds.map { HumanDuration.format(seconds: $0 / 1000) } ?? "-",
                peer.sessionAgeSeconds.map { HumanDuration.format(seconds: $0) } ?? "no session",
                "\(peer.pathMTU)\(peer.pathMTUSearching ? " (probing)" : "")",
                "up to \(peer.largestWholeFrame) B",
            ])
        }
        out += peers.text + (report.hub ? "a hub: frames are relayed between peers\n" : "") + "\n"

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
                if descriptor.field == \Counters.cookieRepliesSent, report.peers.contains(where: \.handshakeUnderLoad) {
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

    /// `causewayctl peers`: one row per peer, what an operator compares across sites.
    public static func peers(_ report: StatusReport) -> String {
        var table = TextTable(
            ["PEER", "KEY", "ENDPOINT", "STATE", "HANDSHAKE", "RTT", "PATH MTU", "FRAMES OUT", "BYTES OUT", "FRAMES IN", "BYTES IN", "DROPS"],
            alignments: [.left, .left, .left, .left, .right, .right, .right, .right, .right, .right, .right, .right]
        )
        for peer in report.peers {
            let counters = peer.counters
            table.add([
                peer.name, shortKey(peer.publicKey), peer.endpoint ?? "(calls in)", peer.up ? "up" : "down",
                peer.secondsSinceLatestHandshake.map { HumanDuration.format(seconds: $0) + " ago" } ?? "never",
                peer.roundTripMilliseconds.map { HumanDuration.format(seconds: $0 / 1000) } ?? "-",
                "\(peer.pathMTU)", "\(counters.framesToPeer)", "\(counters.bytesToPeer)",
                "\(counters.framesFromPeer)", "\(counters.bytesFromPeer)", "\(counters.drops.total)",
            ])
        }
        let up = report.peers.filter(\.up).count
        return table.text + "\(up) of \(report.peers.count) \(report.peers.count == 1 ? "peer" : "peers") up\(report.hub ? "; a hub" : "")\n"
    }

    /// The first eight characters of a base64 public key: enough to tell keys apart by eye.
    static func shortKey(_ key: String) -> String {
        String(key.prefix(8)) + "…"
    }

    public static func macs(_ entries: [StatusSnapshot.MACEntry]) -> String {
        var table = TextTable(["MAC", "WHERE", "VLAN", "AGE", "EXPIRES IN"], alignments: [.left, .left, .right, .right, .right])
        for entry in entries {
            let location = entry.peer == nil ? "local" : "peer \(entry.peerName ?? "?")"
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
