import CausewayCore
import CNetlink
import Glibc

/// What the kernel bridge itself has learned on its LAN ports: the addresses of this site's
/// hosts, with how long ago each was last seen there. Causeway sees only the frames the
/// bridge hands to the tunnel port; a host that only ever talks to hosts of its own site is
/// known to the bridge alone. Read with its own rtnetlink socket, on a thread of its own.
public final class BridgeFDB: @unchecked Sendable {
    /// An address the bridge learned on a port other than the tunnel's, `age` ago.
    public struct Sighting: Sendable, Equatable {
        public var address: MACAddress
        public var age: Duration
    }

    /// A socket of its own: this runs on the LAN watcher's thread.
    private let netlink: Netlink
    private let bridgeIndex: Int32
    private let tunnelIndex: Int32
    /// The kernel's clock_t: the cache info's ages are in hundredths of a second (USER_HZ).
    static let ticksPerSecond: Int64 = 100
    /// Attribute slots for nlmsg_parse: NDA_* types stay well below this.
    static let attributeSlots = 32

    /// Reads the forwarding database of bridge `bridge`, leaving out port `tunnel`.
    public init(bridge: String, tunnel: String) throws {
        netlink = try Netlink()
        guard let bridgeLink = try netlink.link(named: bridge), let tunnelLink = try netlink.link(named: tunnel) else {
            throw NetlinkError(operation: "find \(bridge) and \(tunnel)", code: -NLE_OBJ_NOTFOUND)
        }
        bridgeIndex = bridgeLink.index
        tunnelIndex = tunnelLink.index
    }

    /// The addresses learned on the bridge's ports other than the tunnel's, seen within
    /// `maximumAge`, at most `limit` of them: one dump of its forwarding database
    /// (RTM_GETNEIGH, AF_BRIDGE). Entries the bridge did not learn (its own, static ones)
    /// are left out. The limit bounds what the data plane takes in one turn, however large
    /// a flood on a LAN port made the kernel's table.
    public func learnedOnLAN(maximumAge: Duration, limit: Int) throws -> [Sighting] {
        let collector = Collector(bridgeIndex: bridgeIndex, tunnelIndex: tunnelIndex, maximumAge: maximumAge, limit: limit)
        var request = ndmsg()
        request.ndm_family = UInt8(AF_BRIDGE)
        var result = nl_send_simple(netlink.socket, Int32(RTM_GETNEIGH), NLM_F_DUMP, &request, MemoryLayout<ndmsg>.size)
        guard result >= 0 else { throw NetlinkError(operation: "dump the bridge's forwarding database", code: result) }
        let context = Unmanaged.passUnretained(collector).toOpaque()
        nl_socket_modify_cb(netlink.socket, NL_CB_VALID, NL_CB_CUSTOM, { message, context in
            guard let message, let context else { return Int32(NL_OK.rawValue) }
            Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue().take(message)
            return Int32(NL_OK.rawValue)
        }, context)
        result = withExtendedLifetime(collector) { nl_recvmsgs_default(netlink.socket) }
        // The callback's context dies with this call: nothing may call it afterwards.
        nl_socket_modify_cb(netlink.socket, NL_CB_VALID, NL_CB_DEFAULT, nil, nil)
        guard result >= 0 else { throw NetlinkError(operation: "read the bridge's forwarding database", code: result) }
        return collector.sightings
    }

    /// Gathers the entries of one dump, in libnl's callback.
    private final class Collector {
        let bridgeIndex: Int32
        let tunnelIndex: Int32
        let maximumTicks: Int64
        let limit: Int
        var sightings: [Sighting] = []

        init(bridgeIndex: Int32, tunnelIndex: Int32, maximumAge: Duration, limit: Int) {
            self.bridgeIndex = bridgeIndex
            self.tunnelIndex = tunnelIndex
            self.limit = limit
            maximumTicks = maximumAge.components.seconds * BridgeFDB.ticksPerSecond
                + maximumAge.components.attoseconds / (1_000_000_000_000_000_000 / BridgeFDB.ticksPerSecond)
        }

        func take(_ message: OpaquePointer) {
            guard sightings.count < limit, let header = nlmsg_hdr(message) else { return }
            // Parsed first: nlmsg_parse checks that the message holds a whole ndmsg.
            var attributes = [UnsafeMutablePointer<nlattr>?](repeating: nil, count: BridgeFDB.attributeSlots)
            guard nlmsg_parse(header, Int32(MemoryLayout<ndmsg>.size), &attributes, Int32(BridgeFDB.attributeSlots - 1), nil) == 0
            else { return }
            let entry = nlmsg_data(header).assumingMemoryBound(to: ndmsg.self).pointee
            // The bridge's own addresses are permanent: left out. Static entries an operator
            // put on a LAN port (NOARP) say the host is there, always: seen now.
            guard entry.ndm_family == UInt8(AF_BRIDGE), entry.ndm_ifindex != tunnelIndex,
                  entry.ndm_state & UInt16(NUD_PERMANENT) == 0,
                  let master = attributes[NDA_MASTER], nla_len(master) >= 4, nla_get_u32(master) == UInt32(bitPattern: bridgeIndex),
                  let address = attributes[NDA_LLADDR], nla_len(address) == 6,
                  let info = attributes[NDA_CACHEINFO], nla_len(info) >= Int32(MemoryLayout<nda_cacheinfo>.size)
            else { return }
            let isStatic = entry.ndm_state & UInt16(NUD_NOARP) != 0
            let updated = isStatic ? 0 : Int64(nla_data(info).assumingMemoryBound(to: nda_cacheinfo.self).pointee.ndm_updated)
            guard updated <= maximumTicks else { return }
            let mac = MACAddress(bytes: UnsafeRawBufferPointer(start: nla_data(address), count: 6), offset: 0)
            sightings.append(Sighting(address: mac, age: .milliseconds(updated * (1000 / BridgeFDB.ticksPerSecond))))
        }
    }
}
