@preconcurrency import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The SymmetricState object of the Noise Protocol Framework (revision 34, section 5.2)
/// with SHA-256, HMAC-based HKDF and ChaCha20-Poly1305.
///
/// The chaining key and the cipher key are secret and live in `SymmetricKey`s, whose storage
/// swift-crypto zeroes when it is released; the hash is a transcript, not a secret.
struct NoiseSymmetricState: Sendable {
    enum Failure: Error {
        case decryption
    }

    private var chainingKey: SymmetricKey
    private(set) var hash: [UInt8]
    private var key: SymmetricKey?
    private var nonce: UInt64 = 0

    init(protocolName: String) {
        let name = Array(protocolName.utf8)
        hash = name.count <= SHA256.byteCount
            ? name + Array(repeating: 0, count: SHA256.byteCount - name.count)
            : Array(SHA256.hash(data: name))
        chainingKey = SymmetricKey(data: hash)
    }

    mutating func mixHash(_ data: some DataProtocol) {
        var hasher = SHA256()
        hasher.update(data: hash)
        hasher.update(data: data)
        hash = Array(hasher.finalize())
    }

    mutating func mixKey(_ inputKeyMaterial: some ContiguousBytes) {
        let outputs = Self.hkdf(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial, count: 2)
        chainingKey = outputs[0]
        key = outputs[1]
        nonce = 0
    }

    mutating func mixKeyAndHash(_ inputKeyMaterial: some ContiguousBytes) {
        let outputs = Self.hkdf(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial, count: 3)
        chainingKey = outputs[0]
        outputs[1].withUnsafeBytes { mixHash($0) }
        key = outputs[2]
        nonce = 0
    }

    mutating func encryptAndHash(_ plaintext: [UInt8]) -> [UInt8] {
        guard let key else { preconditionFailure("every Causeway message is sent after a key was mixed in") }
        // Sealing with a 32-byte key and a 12-byte nonce cannot fail.
        let box = try! ChaChaPoly.seal(plaintext, using: key, nonce: Self.nonce(nonce), authenticating: hash)
        nonce += 1
        let ciphertext = Array(box.ciphertext) + Array(box.tag)
        mixHash(ciphertext)
        return ciphertext
    }

    mutating func decryptAndHash(_ ciphertext: some Collection<UInt8>) throws(Failure) -> [UInt8] {
        guard let key, ciphertext.count >= WireFormat.tagLength else { throw .decryption }
        let bytes = Array(ciphertext)
        let plaintext: [UInt8]
        do {
            let box = try ChaChaPoly.SealedBox(
                nonce: Self.nonce(nonce),
                ciphertext: bytes.dropLast(WireFormat.tagLength),
                tag: bytes.suffix(WireFormat.tagLength)
            )
            plaintext = Array(try ChaChaPoly.open(box, using: key, authenticating: hash))
        } catch {
            throw .decryption
        }
        nonce += 1
        mixHash(bytes)
        return plaintext
    }

    /// The two transport keys: the initiator sends with the first.
    func split() -> (SymmetricKey, SymmetricKey) {
        let outputs = Self.hkdf(chainingKey: chainingKey, inputKeyMaterial: [UInt8](), count: 2)
        return (outputs[0], outputs[1])
    }

    /// Noise's HKDF (section 4.3): HMAC-SHA256 chained over the previous output.
    static func hkdf(chainingKey: SymmetricKey, inputKeyMaterial: some ContiguousBytes, count: Int) -> [SymmetricKey] {
        let temporaryKey = inputKeyMaterial.withUnsafeBytes {
            SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: $0, using: chainingKey))
        }
        var outputs: [SymmetricKey] = []
        var previous = SymmetricKey(data: [UInt8]())
        for index in 1...count {
            var hmac = HMAC<SHA256>(key: temporaryKey)
            previous.withUnsafeBytes { hmac.update(data: $0) }
            hmac.update(data: [UInt8(index)])
            previous = SymmetricKey(data: hmac.finalize())
            outputs.append(previous)
        }
        return outputs
    }

    /// 32 bits of zeros, then the counter little-endian: Noise's nonce for ChaChaPoly, for
    /// the handshake's messages (transport messages go through TransportCipher).
    static func nonce(_ counter: UInt64) -> ChaChaPoly.Nonce {
        // Twelve bytes is always a valid ChaChaPoly nonce.
        TransportCipher.withNonce(counter, bigEndian: false) { try! ChaChaPoly.Nonce(data: $0) }
    }
}
