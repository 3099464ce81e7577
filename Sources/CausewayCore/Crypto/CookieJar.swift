@preconcurrency import Crypto

/// The sending side of the MACs: writes mac1 (under the peer's public key) and mac2 (under
/// the latest cookie the peer gave us, while it is fresh) into each handshake message, and
/// takes the peer's cookie replies.
struct CookieJar: Sendable {
    private var cookie: SymmetricKey?
    private var receivedAt = Moment.zero

    /// A cookie is used a little less long than its secret lives (as WireGuard does), so a
    /// mac2 is rarely made with a cookie whose secret the peer has just replaced.
    static let usableFor = HandshakeGuard.cookieLifetime - .seconds(5)

    /// Whether a fresh cookie will go into the next message's mac2.
    func hasCookie(now: Moment) -> Bool {
        cookie != nil && now.since(receivedAt) < Self.usableFor
    }

    /// Fills the two mac fields at `macOffset`; returns the mac1, which a cookie reply to
    /// this message will be bound to.
    func writeMACs(into message: inout [UInt8], macAt macOffset: Int, keys: HandshakeMACKeys, now: Moment) -> [UInt8] {
        message.withUnsafeMutableBytes { bytes in
            let mac1 = HandshakeMACKeys.mac(keys.mac1ToPeer, UnsafeRawBufferPointer(rebasing: bytes[0..<macOffset]))
            bytes[macOffset..<(macOffset + WireFormat.macLength)].copyBytes(from: mac1)
            let mac2Offset = macOffset + WireFormat.macLength
            if let cookie, hasCookie(now: now) {
                let mac2 = HandshakeMACKeys.mac(cookie, UnsafeRawBufferPointer(rebasing: bytes[0..<mac2Offset]))
                bytes[mac2Offset..<(mac2Offset + WireFormat.macLength)].copyBytes(from: mac2)
            } else {
                bytes[mac2Offset..<(mac2Offset + WireFormat.macLength)].initializeMemory(as: UInt8.self, repeating: 0)
            }
            return mac1
        }
    }

    /// Opens a cookie reply to the message whose mac1 was `mac1`; one AEAD, no
    /// Diffie-Hellman. Returns false when it does not open.
    mutating func take(_ reply: UnsafeRawBufferPointer, answering mac1: [UInt8], keys: HandshakeMACKeys, now: Moment) -> Bool {
        typealias Field = WireFormat.CookieReply
        guard reply.count == Field.length else { return false }
        let cipher = keys.cookieFromPeer
        var plaintext = [UInt8](repeating: 0, count: WireFormat.macLength)
        let opened = plaintext.withUnsafeMutableBytes { out in
            mac1.withUnsafeBytes { associated in
                cipher.open(
                    UnsafeRawBufferPointer(rebasing: reply[Field.sealedCookie...]),
                    nonce: UnsafeRawBufferPointer(rebasing: reply[Field.nonce..<Field.sealedCookie]),
                    authenticating: associated, into: out
                )
            }
        }
        guard opened else { return false }
        cookie = SymmetricKey(data: plaintext)
        plaintext.overwriteWithZeros()
        receivedAt = now
        return true
    }

    /// Forgets the cookie (with the rest of the key material, after a long silence).
    mutating func erase() {
        cookie = nil
    }
}
