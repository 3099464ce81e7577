import CausewayCore

/// The one line `systemctl status` shows for a running causewayd (sd_notify's STATUS=).
public enum ServiceStatus {
    public static func line(_ snapshot: StatusSnapshot) -> String {
        let counters = snapshot.counters
        var text: String
        if snapshot.peers.count == 1, let peer = snapshot.peers.first {
            text = "peer \(peer.name) \(peer.up ? "up" : "down")"
            if peer.up, let rtt = peer.roundTripSeconds {
                text += " (rtt \(HumanDuration.format(seconds: rtt)))"
            }
        } else {
            text = "\(snapshot.peers.filter(\.up).count) of \(snapshot.peers.count) peers up"
        }
        return text + "; \(snapshot.macTable.entries) MACs; frames \(counters.framesToPeer) out, \(counters.framesToLAN) in; \(counters.drops.total) dropped"
    }
}
