@preconcurrency import Crypto

/// This site's key pair, the peer's public key, the optional pre-shared key and the transport
/// ciphers this site accepts, with what the handshake derives from them once: the
/// static-static secret and the MAC keys.
public struct SiteIdentity: Sendable {
    public let local: PrivateKey
    public let peer: PublicKey
    public let psk: PreSharedKey
    public let ciphers: CipherOffer
    let peerAgreementKey: Curve25519.KeyAgreement.PublicKey
    /// DH(our static, the peer's static): the `ss` term, the same for every handshake.
    let staticShared: SymmetricKey
    let macs: HandshakeMACKeys

    public enum Problem: Error, Equatable, CustomStringConvertible {
        /// The peer's public key is this site's own: the link would be a gateway with itself.
        case peerIsSelf
        /// The peer's public key is a low-order point: no shared secret would be secret.
        case weakPeerKey

        public var description: String {
            switch self {
            case .peerIsSelf: "is this site's own public key; name the peer's (causewayd pubkey on the peer)"
            case .weakPeerKey: "is not a usable Curve25519 public key (a low-order point)"
            }
        }
    }

    public init(local: PrivateKey, peer: PublicKey, psk: PreSharedKey = .none, ciphers: CipherOffer = .automatic) throws(Problem) {
        guard peer != local.publicKey else { throw .peerIsSelf }
        self.local = local
        self.peer = peer
        self.psk = psk
        self.ciphers = ciphers
        peerAgreementKey = peer.agreementKey
        guard let shared = local.sharedSecret(with: peerAgreementKey) else { throw .weakPeerKey }
        staticShared = shared
        macs = HandshakeMACKeys(local: local.publicKey, peer: peer)
    }
}

/// The keys of WireGuard's two MACs and its cookie replies, derived from public keys: a
/// message must be addressed to us (mac1 under our public key) before anything costs more
/// than a hash. With swift-crypto, HMAC-SHA256 cut to 16 bytes does the job of WireGuard's
/// keyed BLAKE2s.
struct HandshakeMACKeys: Sendable {
    /// mac1 of messages sent to this site.
    let mac1ToUs: SymmetricKey
    /// mac1 of messages sent to the peer: one of ours coming back is an echo.
    let mac1ToPeer: SymmetricKey
    /// Seals the cookie replies this site sends (XChaCha20-Poly1305, its key schedule done
    /// once: under a flood every message without a cookie gets one).
    let cookieFromUs: TransportCipher
    /// Opens the cookie replies the peer sends.
    let cookieFromPeer: TransportCipher

    init(local: PublicKey, peer: PublicKey) {
        mac1ToUs = Self.derive("mac1----", local)
        mac1ToPeer = Self.derive("mac1----", peer)
        cookieFromUs = TransportCipher(extendedNonceKey: Self.derive("cookie--", local))
        cookieFromPeer = TransportCipher(extendedNonceKey: Self.derive("cookie--", peer))
    }

    static func derive(_ label: String, _ key: PublicKey) -> SymmetricKey {
        SymmetricKey(data: SHA256.hash(data: Array(label.utf8) + key.bytes))
    }

    /// HMAC-SHA256 of `message`, its first 16 bytes.
    static func mac(_ key: SymmetricKey, _ message: UnsafeRawBufferPointer) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: key).prefix(WireFormat.macLength))
    }

    /// Whether `message[macOffset...]` holds the MAC of the bytes before it, in constant time.
    static func verify(_ key: SymmetricKey, _ message: UnsafeRawBufferPointer, macAt macOffset: Int) -> Bool {
        let expected = mac(key, UnsafeRawBufferPointer(rebasing: message[0..<macOffset]))
        var difference: UInt8 = 0
        for index in 0..<WireFormat.macLength {
            difference |= expected[index] ^ message[macOffset + index]
        }
        return difference == 0
    }
}

extension Handshake {
    /// Writes the mac1 that a message addressed to `receiver` carries: what anyone who knows
    /// that public key can compute (tests use it to play such an attacker).
    public static func writeMAC1(into message: inout [UInt8], macAt offset: Int, receiver: PublicKey) {
        let key = HandshakeMACKeys.derive("mac1----", receiver)
        let mac = message.withUnsafeBytes { HandshakeMACKeys.mac(key, UnsafeRawBufferPointer(rebasing: $0[0..<offset])) }
        message.replaceSubrange(offset..<(offset + WireFormat.macLength), with: mac)
    }
}
