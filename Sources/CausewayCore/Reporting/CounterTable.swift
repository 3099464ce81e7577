extension Counters {
    /// Every counter in `Counters`, each once, in the order reports show them. Status JSON,
    /// the metrics, the human report (which names each by its JSON key) and the table in
    /// docs/control.md are all made from this list; CounterTableTests proves it covers every
    /// field and that the docs match it.
    public static let descriptors: [CounterDescriptor] = [
        .init(\.framesFromLAN, key: "framesFromLAN", metric: "lan_frames_received", group: .traffic,
              help: "Frames read from the TAP, that is from this site's LAN."),
        .init(\.bytesFromLAN, key: "bytesFromLAN", metric: "lan_bytes_received", group: .traffic,
              help: "Bytes of frames read from the TAP."),
        .init(\.framesToPeer, key: "framesToPeer", metric: "peer_datagrams_sent", group: .traffic,
              help: "Data datagrams sent to the peer."),
        .init(\.bytesToPeer, key: "bytesToPeer", metric: "peer_bytes_sent", group: .traffic,
              help: "Bytes of data datagrams sent to the peer, headers and tags included."),
        .init(\.framesFromPeer, key: "framesFromPeer", metric: "peer_frames_received", group: .traffic,
              help: "Frames the peer sent that authenticated."),
        .init(\.bytesFromPeer, key: "bytesFromPeer", metric: "peer_bytes_received", group: .traffic,
              help: "Bytes of frames the peer sent that authenticated."),
        .init(\.framesToLAN, key: "framesToLAN", metric: "lan_frames_sent", group: .traffic,
              help: "Frames written to the TAP, that is to this site's LAN."),
        .init(\.bytesToLAN, key: "bytesToLAN", metric: "lan_bytes_sent", group: .traffic,
              help: "Bytes of frames written to the TAP."),

        .init(\.flooded, key: "flooded", metric: "frames_flooded", group: .switching,
              help: "Broadcast, multicast and unknown-unicast frames sent to the peer."),
        .init(\.suppressedLocal, key: "suppressedLocal", metric: "frames_suppressed_local", group: .switching,
              help: "Frames for a MAC learned as local, kept off the WAN."),
        .init(\.macMoves, key: "macMoves", metric: "mac_moves", group: .switching,
              help: "MAC addresses that moved between local and remote."),
        .init(\.macTableFull, key: "macTableFull", metric: "mac_table_full", group: .switching,
              help: "Source MAC addresses not learned because the table was at its cap."),

        .init(\.keepalivesSent, key: "keepalivesSent", metric: "keepalives_sent", group: .link,
              help: "Keepalives sent to the peer."),
        .init(\.keepalivesReceived, key: "keepalivesReceived", metric: "keepalives_received", group: .link,
              help: "Keepalives received from the peer."),
        .init(\.handshakesInitiated, key: "handshakesInitiated", metric: "handshakes_initiated", group: .link,
              help: "Handshake initiations sent."),
        .init(\.initiationsReceived, key: "initiationsReceived", metric: "handshake_initiations_received", group: .link,
              help: "Datagrams shaped as handshake initiations received, before any check."),
        .init(\.handshakesAnswered, key: "handshakesAnswered", metric: "handshakes_answered", group: .link,
              help: "Handshake initiations answered with a response."),
        .init(\.responsesReceived, key: "responsesReceived", metric: "handshake_responses_received", group: .link,
              help: "Datagrams shaped as handshake responses received, before any check."),
        .init(\.cookieRepliesSent, key: "cookieRepliesSent", metric: "cookie_replies_sent", group: .link,
              help: "Cookie replies sent to handshake messages that arrived under load without a valid cookie."),
        .init(\.cookieRepliesReceived, key: "cookieRepliesReceived", metric: "cookie_replies_received", group: .link,
              help: "Cookie replies from the peer that opened."),
        .init(\.sessionsEstablished, key: "sessionsEstablished", metric: "sessions_established", group: .link,
              help: "Sessions that became the current one."),

        .init(\.framesFragmented, key: "framesFragmented", metric: "frames_fragmented", group: .path,
              help: "Frames too large for one datagram on the path, sent as fragments."),
        .init(\.fragmentsSent, key: "fragmentsSent", metric: "fragments_sent", group: .path,
              help: "Fragments sent to the peer."),
        .init(\.fragmentsReceived, key: "fragmentsReceived", metric: "fragments_received", group: .path,
              help: "Fragments from the peer that authenticated."),
        .init(\.framesReassembled, key: "framesReassembled", metric: "frames_reassembled", group: .path,
              help: "Split frames put back together and delivered."),
        .init(\.framesSegmented, key: "framesSegmented", metric: "frames_segmented", group: .path,
              help: "Large TCP frames from the LAN cut into segments."),
        .init(\.framesCoalesced, key: "framesCoalesced", metric: "frames_coalesced", group: .path,
              help: "Frames for the LAN merged with others of their TCP or UDP flow into one TAP write."),
        .init(\.mssClamped, key: "mssClamped", metric: "mss_clamped", group: .path,
              help: "TCP SYN and SYN-ACK segments whose MSS was lowered to fit the path."),
        .init(\.tooBigSent, key: "tooBigSent", metric: "too_big_sent", group: .path,
              help: "Frames too large for the path answered with ICMP too-big (icmp-too-big)."),
        .init(\.pathProbesSent, key: "pathProbesSent", metric: "path_probes_sent", group: .path,
              help: "Path MTU probes sent."),
        .init(\.pathProbesAcknowledged, key: "pathProbesAcknowledged", metric: "path_probes_acknowledged", group: .path,
              help: "Path MTU probes the peer acknowledged."),
    ]

    /// The drops, one labelled family.
    public static let dropDescriptor = DropCounterDescriptor(
        key: "drops", metric: "drops", labelName: "reason",
        help: "Datagrams and frames dropped, by reason.", heading: "DROP REASON"
    )
}
