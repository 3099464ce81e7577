import Synchronization

/// Storm control: the frames every host on a LAN must look at — broadcast, multicast and
/// unicast to an unknown address, which the bridges flood — metered by class, each with a
/// token bucket of its own. A storm on one site then costs the other site at most the rate,
/// while ARP, neighbour discovery and mDNS, a few frames per second per host, never meet it.
/// Unicast to a learned address is never metered, and neither are link-local control frames
/// (01:80:c2:00:00:0x: spanning tree's BPDUs among them), so bridges running STP on both
/// sides always see a loop through the link and can block it.
///
/// One meter serves every lane of a gateway (Lane): the buckets are atomics, so however the
/// kernel spreads flooded frames over the lanes, together they pass the configured rate.
public final class StormControl: Sendable {
    /// Which bucket a flooded frame takes a token from.
    public enum FloodClass: Sendable, Equatable {
        case broadcast, multicast, unknownUnicast

        /// The drop counted for a frame of this class beyond the rate.
        public var dropReason: DropReason {
            switch self {
            case .broadcast: .stormBroadcast
            case .multicast: .stormMulticast
            case .unknownUnicast: .stormUnknownUnicast
            }
        }
    }

    private let enabled: Bool
    private let broadcast: SharedTokenBucket
    private let multicast: SharedTokenBucket
    private let unknownUnicast: SharedTokenBucket

    /// What it was made with: frames per second in each class, and the burst.
    public let rate: Int
    public let burst: Int

    /// `rate` frames per second in each class after a burst of `burst`; a rate of 0 meters nothing.
    public init(rate: Int, burst: Int) {
        self.rate = rate
        self.burst = burst
        enabled = rate > 0
        broadcast = SharedTokenBucket(perSecond: rate, burst: burst)
        multicast = SharedTokenBucket(perSecond: rate, burst: burst)
        unknownUnicast = SharedTokenBucket(perSecond: rate, burst: burst)
    }

    /// The class of a flooded frame to `destination`: a group address is broadcast or
    /// multicast, a unicast one is unknown (or it would not be flooded).
    @inline(__always)
    public static func floodClass(of destination: MACAddress) -> FloodClass {
        if destination == .broadcast { return .broadcast }
        return destination.isGroup ? .multicast : .unknownUnicast
    }

    /// 01:80:c2:00:00:00 to 01:80:c2:00:00:0f, which IEEE 802.1D reserves for link control:
    /// spanning tree, LACP, LLDP, 802.1X. Never metered.
    @inline(__always)
    public static func isLinkLocalControl(_ destination: MACAddress) -> Bool {
        destination.rawValue & ~0xF == 0x0180_C200_0000
    }

    /// Whether a flooded frame to `destination` may pass now; takes its class's token.
    @inline(__always)
    public func admit(_ destination: MACAddress, now: Moment) -> Bool {
        guard enabled, !Self.isLinkLocalControl(destination) else { return true }
        switch Self.floodClass(of: destination) {
        case .broadcast: return broadcast.allow(now: now)
        case .multicast: return multicast.allow(now: now)
        case .unknownUnicast: return unknownUnicast.allow(now: now)
        }
    }
}

/// A token bucket several threads take from without a lock: `burst` at once, refilled at
/// `perSecond`. It keeps one number, the moment the bucket would be full again (the
/// theoretical arrival time of GCRA), moved forward by one token's time with a
/// compare-and-exchange for each frame let through.
final class SharedTokenBucket: Sendable {
    /// Nanoseconds one token stands for.
    private let interval: UInt64
    /// How far ahead of now the full-again moment may run: a burst's worth, less one token.
    private let tolerance: UInt64
    private let fullAgainAt = Atomic<UInt64>(0)

    init(perSecond: Int, burst: Int) {
        interval = 1_000_000_000 / UInt64(max(perSecond, 1))
        tolerance = interval * UInt64(max(burst, 1) - 1)
    }

    func allow(now: Moment) -> Bool {
        var seen = fullAgainAt.load(ordering: .relaxed)
        while true {
            let start = max(seen, now.nanoseconds)
            guard start - now.nanoseconds <= tolerance else { return false }
            let (exchanged, original) = fullAgainAt.compareExchange(expected: seen, desired: start + interval, ordering: .relaxed)
            if exchanged { return true }
            seen = original
        }
    }
}
