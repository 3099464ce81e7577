@preconcurrency import Crypto

extension Configuration {
    /// The TAP's MAC address: derived from what makes this gateway unique (its devices and
    /// its site's public key), so it is the same after every restart and every change of
    /// peers, and differs between sites even when their devices and listen addresses match.
    public func tapAddress(siteKey: PublicKey) -> MACAddress {
        let identity = ["causeway tap v2", bridge, tap, siteKey.base64, networkID.description]
        return MACAddress.locallyAdministered(derivedFrom: SHA256.hash(data: Array(identity.joined(separator: "\n").utf8)))
    }
}
