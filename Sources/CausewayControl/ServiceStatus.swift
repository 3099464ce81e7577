import CausewayCore

/// The one line `systemctl status` shows for a running causewayd (sd_notify's STATUS=).
public enum ServiceStatus {
    public static func line(_ snapshot: StatusSnapshot) -> String {
        let peer = snapshot.peer
        let counters = snapshot.counters
        var text = "peer \(peer.endpoint) \(peer.up ? "up" : "down")"
        if peer.up, let rtt = peer.roundTripMilliseconds {
            text += " (rtt \(HumanDuration.format(seconds: rtt / 1000)))"
        }
        return text + "; \(snapshot.macTable.entries) MACs; frames \(counters.framesToPeer) out, \(counters.framesToLAN) in; \(counters.drops.total) dropped"
    }
}
