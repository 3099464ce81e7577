@preconcurrency import Crypto

extension Configuration {
    /// The TAP's MAC address: derived from what makes this gateway unique (its devices and
    /// both ends of its link), so it is the same after every restart and differs between
    /// the two sites even when their device names match.
    public var tapAddress: MACAddress {
        let identity = ["causeway tap v1", bridge, tap, listen.description, peer.description, networkID.description]
        return MACAddress.locallyAdministered(derivedFrom: SHA256.hash(data: Array(identity.joined(separator: "\n").utf8)))
    }
}
