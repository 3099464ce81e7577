import CausewayCore

/// What causewayctl prints without `--json`.
public enum HumanReport {
    /// `causewayctl status`: about ten lines, as `wg show` prints them. The gateway in two
    /// lines, then each peer: endpoint, latest handshake, transfer, RTT and path MTU, and the
    /// drops that are not zero. `--all` prints `fullStatus`.
    public static func status(_ report: StatusReport) -> String {
        var out = "gateway \(report.instance): "
        var facts: [String] = []
        if let key = report.publicKey { facts.append("key \(shortKey(key))") }
        if let listen = report.listen { facts.append("listening on \(listen)") }
        facts.append("causewayd \(report.version) up \(HumanDuration.format(seconds: report.uptimeSeconds))")
        out += facts.joined(separator: ", ") + "\n"

        let devices = report.devices.map { "\($0.role.rawValue) \($0.name) \($0.state.rawValue)" }
        var second = devices + ["\(report.macTable.entries) of \(report.macTable.capacity) MACs"]
        if report.hub { second.append("a hub: relays between peers") }
        out += "  " + second.joined(separator: ", ") + "\n"
        if let lanes = report.lanes, lanes.count > 1 {
            let shares = lanes.map { "\($0.framesFromLAN)/\($0.framesFromPeers)" }.joined(separator: ", ")
            out += "  \(lanes.count) data-plane threads, frames from the LAN/from peers: \(shares)\n"
        }
        // What no peer is charged with: datagrams from unknown senders, frames from the LAN.
        var gatewayOwn = report.counters
        for peer in report.peers { gatewayOwn.subtract(peer.counters) }
        if let drops = nonZeroDrops(gatewayOwn) { out += "  drops: \(drops)\n" }

        for peer in report.peers {
            out += "\npeer \(peer.name): \(peer.up ? "up" : "down")\n"
            out += "  endpoint: \(peer.endpoint ?? "(calls in)")\n"
            out += "  latest handshake: \(peer.secondsSinceLatestHandshake.map { HumanDuration.format(seconds: $0) + " ago" } ?? "never")"
                + (peer.cipher.map { ", cipher \($0.rawValue)" } ?? "") + "\n"
            out += "  transfer: \(HumanBytes.format(peer.counters.bytesFromPeer)) received, \(HumanBytes.format(peer.counters.bytesToPeer)) sent\n"
            let rtt = peer.roundTripSeconds.map { HumanDuration.format(seconds: $0) } ?? "-"
            out += "  rtt: \(rtt), path MTU: \(peer.pathMTU)\(peer.pathMTUSearching ? " (probing)" : "")\n"
            if let drops = nonZeroDrops(peer.counters) { out += "  drops: \(drops)\n" }
        }
        if report.peers.isEmpty { out += "\nno peer configured\n" }
        return out
    }

    /// "replay 3, bad-mac1 1": the reasons with a count, in the order of `DropReason`; nil
    /// when nothing was dropped.
    static func nonZeroDrops(_ counters: Counters) -> String? {
        let drops = DropReason.allCases.compactMap { reason in
            counters.drops(reason) > 0 ? "\(reason.rawValue) \(counters.drops(reason))" : nil
        }
        return drops.isEmpty ? nil : drops.joined(separator: ", ")
    }

    /// `causewayctl status --all`: the devices, a table of peers, and every counter, each on
    /// a row named by its key in `status.counters`.
    public static func fullStatus(_ report: StatusReport) -> String {
        var out = "causewayd \(report.version), up \(HumanDuration.format(seconds: report.uptimeSeconds)), "
            + "network \(report.networkID), configuration \(report.configuration)\n"
        if let key = report.publicKey { out += "public key \(key)\(report.listen.map { ", listening on \($0)" } ?? "")\n" }
        out += "\n"

        var devices = TextTable(["DEVICE", "ROLE", "STATE", "MAC"])
        for device in report.devices {
            devices.add([device.name, device.role.rawValue, device.state.rawValue, device.role == .tap ? report.tapMAC : "-"])
        }
        out += devices.text + "\n"

        var peers = TextTable(["PEER", "ENDPOINT", "KEY", "STATE", "HANDSHAKE", "LAST RECEIVE", "RTT", "SESSION AGE", "CIPHER", "PATH MTU", "WHOLE FRAMES"])
        for peer in report.peers {
            peers.add([
                peer.name, peer.endpoint ?? "(calls in)", shortKey(peer.publicKey), peer.up ? "up" : "down",
                peer.secondsSinceLatestHandshake.map { HumanDuration.format(seconds: $0) + " ago" } ?? "never",
                peer.secondsSinceLastReceive.map { HumanDuration.format(seconds: $0) + " ago" } ?? "never",
                peer.roundTripSeconds.map { HumanDuration.format(seconds: $0) } ?? "-",
                peer.sessionAgeSeconds.map { HumanDuration.format(seconds: $0) } ?? "no session",
                peer.cipher?.rawValue ?? "-",
                "\(peer.pathMTU)\(peer.pathMTUSearching ? " (probing)" : "")",
                "up to \(peer.largestWholeFrame) B",
            ])
        }
        out += peers.text + (report.hub ? "a hub: frames are relayed between peers\n" : "") + "\n"
        if let lanes = report.lanes {
            var table = TextTable(["LANE", "FROM LAN", "TO PEERS", "FROM PEERS", "TO LAN", "DROPS", "MACS"], alignments: Array(repeating: .right, count: 7))
            for (index, lane) in lanes.enumerated() {
                table.add(["\(index)", "\(lane.framesFromLAN)", "\(lane.framesToPeers)", "\(lane.framesFromPeers)", "\(lane.framesToLAN)", "\(lane.drops)", "\(lane.macEntries)"])
            }
            out += table.text + "\n"
        }

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
                table.add([descriptor.key, value])
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
                peer.roundTripSeconds.map { HumanDuration.format(seconds: $0) } ?? "-",
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

    /// `causewayctl macs`: where each address is; PORT, the bridge port it is on (a peer's
    /// name for one behind a peer); IP, from the gateway's neighbour table; NOTE marks the
    /// gateway's own addresses.
    public static func macs(_ entries: [StatusSnapshot.MACEntry]) -> String {
        var table = TextTable(
            ["MAC", "WHERE", "PORT", "IP", "VLAN", "AGE", "EXPIRES IN", "NOTE"],
            alignments: [.left, .left, .left, .left, .right, .right, .right, .left]
        )
        for entry in entries {
            let location = entry.peer == nil ? "local" : "peer \(entry.peerName ?? "?")"
            let port = entry.peer == nil ? entry.port : entry.peerName
            table.add([
                entry.mac, location, port ?? "-", entry.ipAddresses?.joined(separator: ",") ?? "-", entry.vlan.map(String.init) ?? "-",
                HumanDuration.format(seconds: entry.ageSeconds), HumanDuration.format(seconds: entry.expiresInSeconds),
                entry.thisGateway.map { "this gateway (\($0))" } ?? "",
            ])
        }
        // An empty NOTE leaves the padding of the column before it: cut it.
        let lines = table.text.split(separator: "\n").map { line in
            String(line[..<(line.lastIndex { $0 != " " }.map(line.index(after:)) ?? line.startIndex)])
        }
        return lines.joined(separator: "\n") + "\n\(entries.count) \(entries.count == 1 ? "entry" : "entries")\n"
    }

    public static func explanation(_ explanation: Explanation) -> String {
        let name = explanation.ip.map { "\($0) (\(explanation.mac))" } ?? explanation.mac
        return "\(name): \(explanation.verdict.rawValue)\n  \(explanation.reason)\n"
    }
}
