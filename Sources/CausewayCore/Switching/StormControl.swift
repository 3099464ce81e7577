/// Storm control: the frames every host on a LAN must look at — broadcast, multicast and
/// unicast to an unknown address, which the bridges flood — metered by class, each with a
/// token bucket of its own. A storm on one site then costs the other site at most the rate,
/// while ARP, neighbour discovery and mDNS, a few frames per second per host, never meet it.
/// Unicast to a learned address is never metered, and neither are link-local control frames
/// (01:80:c2:00:00:0x: spanning tree's BPDUs among them), so bridges running STP on both
/// sides always see a loop through the link and can block it.
public struct StormControl: Sendable {
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
    private var broadcast: RateLimiter
    private var multicast: RateLimiter
    private var unknownUnicast: RateLimiter

    /// What it was made with: frames per second in each class, and the burst.
    public let rate: Int
    public let burst: Int

    /// `rate` frames per second in each class after a burst of `burst`; a rate of 0 meters nothing.
    public init(rate: Int, burst: Int) {
        self.rate = rate
        self.burst = burst
        enabled = rate > 0
        broadcast = RateLimiter(perSecond: Double(rate), burst: Double(burst))
        multicast = broadcast
        unknownUnicast = broadcast
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
    public mutating func admit(_ destination: MACAddress, now: Moment) -> Bool {
        guard enabled, !Self.isLinkLocalControl(destination) else { return true }
        switch Self.floodClass(of: destination) {
        case .broadcast: return broadcast.allow(now: now)
        case .multicast: return multicast.allow(now: now)
        case .unknownUnicast: return unknownUnicast.allow(now: now)
        }
    }
}
