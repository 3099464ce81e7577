@preconcurrency import Crypto

/// A site's public Curve25519 key: who the site is. Operators exchange these as base64.
public struct PublicKey: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(KeyParseError) {
        guard bytes.count == KeyText.length else { throw .wrongLength(bytes.count) }
        self.bytes = bytes
    }

    public init(base64 text: String) throws(KeyParseError) {
        bytes = try KeyText.bytes(of: text)
    }

    public var base64: String { KeyText.text(of: bytes) }

    /// The first eight base64 characters, for tables and logs; `--json` shows the whole key.
    public var short: String { String(base64.prefix(8)) + "…" }

    public var description: String { base64 }

    var agreementKey: Curve25519.KeyAgreement.PublicKey {
        // Any 32 bytes are a Curve25519 public key; the all-zero result of a low-order one
        // is refused where the Diffie-Hellman happens.
        try! Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes)
    }
}

/// A site's private Curve25519 key, read from its key file (`causewayd genkey`).
public struct PrivateKey: Sendable {
    let agreementKey: Curve25519.KeyAgreement.PrivateKey
    public let publicKey: PublicKey

    init(_ key: Curve25519.KeyAgreement.PrivateKey) {
        agreementKey = key
        publicKey = try! PublicKey(bytes: Array(key.publicKey.rawRepresentation))
    }

    /// Parses the contents of a key file. The caller overwrites its own copy of the text.
    public init(base64 text: String) throws(KeyParseError) {
        var bytes = try KeyText.bytes(of: text)
        defer { bytes.overwriteWithZeros() }
        self.init(try! Curve25519.KeyAgreement.PrivateKey(rawRepresentation: bytes))
    }

    public static func random() -> PrivateKey { PrivateKey(Curve25519.KeyAgreement.PrivateKey()) }

    /// The key file's text. Only `genkey` writes it; nothing logs it.
    public var base64: String { KeyText.text(of: Array(agreementKey.rawRepresentation)) }

    /// Curve25519 with `peer`; nil when the result is all zeros, which only a low-order
    /// point gives: such a key contributes nothing secret and is refused.
    func sharedSecret(with peer: Curve25519.KeyAgreement.PublicKey) -> SymmetricKey? {
        guard let shared = try? agreementKey.sharedSecretFromKeyAgreement(with: peer) else { return nil }
        let isZero = shared.withUnsafeBytes { bytes in bytes.reduce(0) { $0 | $1 } == 0 }
        return isZero ? nil : shared.withUnsafeBytes { SymmetricKey(data: $0) }
    }
}
