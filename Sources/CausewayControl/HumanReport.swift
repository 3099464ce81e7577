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

        let counters = report.counters
        var traffic = TextTable(["TRAFFIC", "FRAMES", "BYTES"], alignments: [.left, .right, .right])
        traffic.add(["from the LAN", "\(counters.framesFromLAN)", "\(counters.bytesFromLAN)"])
        traffic.add(["to the peer", "\(counters.framesToPeer)", "\(counters.bytesToPeer)"])
        traffic.add(["from the peer", "\(counters.framesFromPeer)", "\(counters.bytesFromPeer)"])
        traffic.add(["to the LAN", "\(counters.framesToLAN)", "\(counters.bytesToLAN)"])
        out += traffic.text + "\n"

        var switching = TextTable(["LINK", "COUNT"], alignments: [.left, .right])
        switching.add(["flooded", "\(counters.flooded)"])
        switching.add(["suppressed as local", "\(counters.suppressedLocal)"])
        switching.add(["MAC moves", "\(counters.macMoves)"])
        switching.add(["MAC table full", "\(counters.macTableFull)"])
        switching.add(["MAC entries", "\(report.macTable.entries) of \(report.macTable.capacity)"])
        switching.add(["keepalives sent", "\(counters.keepalivesSent)"])
        switching.add(["keepalives received", "\(counters.keepalivesReceived)"])
        switching.add(["handshakes initiated", "\(counters.handshakesInitiated)"])
        switching.add(["initiations received", "\(counters.initiationsReceived)"])
        switching.add(["handshakes answered", "\(counters.handshakesAnswered)"])
        switching.add(["responses received", "\(counters.responsesReceived)"])
        switching.add(["cookie replies sent", "\(counters.cookieRepliesSent)\(peer.handshakeUnderLoad ? " (under load now)" : "")"])
        switching.add(["cookie replies received", "\(counters.cookieRepliesReceived)"])
        switching.add(["sessions established", "\(counters.sessionsEstablished)"])
        switching.add(["frames fragmented", "\(counters.framesFragmented)"])
        switching.add(["frames reassembled", "\(counters.framesReassembled)"])
        switching.add(["large TCP frames cut", "\(counters.framesSegmented)"])
        switching.add(["frames coalesced", "\(counters.framesCoalesced)"])
        switching.add(["reassembly in progress", "\(report.reassembly.framesInProgress) (\(report.reassembly.bytesInUse) of \(report.reassembly.capacityBytes) B)"])
        switching.add(["TCP MSS clamped", "\(counters.mssClamped)"])
        switching.add(["ICMP too-big sent", "\(counters.tooBigSent)"])
        out += switching.text + "\n"

        var drops = TextTable(["DROP REASON", "COUNT"], alignments: [.left, .right])
        for reason in DropReason.allCases {
            drops.add([reason.rawValue, "\(counters.drops(reason))"])
        }
        out += drops.text
        return out
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
