@preconcurrency import Crypto
// swift-crypto's ChaChaPoly and AES.GCM return every result in a new Data: an allocation
// and a copy per frame. Its own BoringSSL, through the AEAD context API, seals and opens in
// the caller's buffers with the key schedule done once. The same primitives, fewer copies.
import CCryptoBoringSSL

/// One transport key of a `CipherSuite`, with the Noise nonce of that cipher (four zero
/// bytes, then the 64-bit counter: little-endian for ChaCha20-Poly1305, big-endian for
/// AES-GCM), sealing into and opening from buffers the caller owns. With an
/// `extendedNonceKey`, XChaCha20-Poly1305 (24-byte random nonces), for cookie replies.
final class TransportCipher: @unchecked Sendable {
    private let context: UnsafeMutablePointer<EVP_AEAD_CTX>
    private let counterIsBigEndian: Bool
    static let extendedNonceLength = 24

    init(key: SymmetricKey, suite: CipherSuite) {
        let aead = switch suite {
        case .chacha20Poly1305: CCryptoBoringSSL_EVP_aead_chacha20_poly1305()
        case .aes256GCM: CCryptoBoringSSL_EVP_aead_aes_256_gcm()
        }
        context = Self.context(aead, key: key)
        counterIsBigEndian = suite == .aes256GCM
    }

    init(extendedNonceKey key: SymmetricKey) {
        context = Self.context(CCryptoBoringSSL_EVP_aead_xchacha20_poly1305(), key: key)
        counterIsBigEndian = false
    }

    private static func context(_ aead: OpaquePointer?, key: SymmetricKey) -> UnsafeMutablePointer<EVP_AEAD_CTX> {
        let made = key.withUnsafeBytes { bytes in
            CCryptoBoringSSL_EVP_AEAD_CTX_new(aead, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, WireFormat.tagLength)
        }
        // Fails only for a key of the wrong size; the handshake makes 32-byte keys.
        guard let made else { preconditionFailure("every suite here takes a 32-byte key") }
        return made
    }

    deinit {
        // BoringSSL's OPENSSL_free zeroes the context, key included, before releasing it.
        CCryptoBoringSSL_EVP_AEAD_CTX_free(context)
    }

    /// Writes `plaintext` encrypted, then the tag, to `out`, which may be exactly the
    /// plaintext's memory. Returns false when `out` is too small.
    func seal(
        _ plaintext: UnsafeRawBufferPointer, counter: UInt64, authenticating header: UnsafeRawBufferPointer,
        into out: UnsafeMutableRawBufferPointer
    ) -> Bool {
        Self.withNonce(counter, bigEndian: counterIsBigEndian) { run(CCryptoBoringSSL_EVP_AEAD_CTX_seal, plaintext, nonce: $0, header: header, out: out) }
    }

    /// Authenticates `sealed` (ciphertext, then tag) and writes the plaintext to `out`.
    /// Returns false when the tag does not match or `out` is too small.
    func open(
        _ sealed: UnsafeRawBufferPointer, counter: UInt64, authenticating header: UnsafeRawBufferPointer,
        into out: UnsafeMutableRawBufferPointer
    ) -> Bool {
        Self.withNonce(counter, bigEndian: counterIsBigEndian) { run(CCryptoBoringSSL_EVP_AEAD_CTX_open, sealed, nonce: $0, header: header, out: out) }
    }

    /// Seals with an explicit nonce (the extended cipher's random 24 bytes).
    func seal(
        _ plaintext: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, authenticating header: UnsafeRawBufferPointer,
        into out: UnsafeMutableRawBufferPointer
    ) -> Bool {
        run(CCryptoBoringSSL_EVP_AEAD_CTX_seal, plaintext, nonce: nonce, header: header, out: out)
    }

    /// Opens with an explicit nonce.
    func open(
        _ sealed: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, authenticating header: UnsafeRawBufferPointer,
        into out: UnsafeMutableRawBufferPointer
    ) -> Bool {
        run(CCryptoBoringSSL_EVP_AEAD_CTX_open, sealed, nonce: nonce, header: header, out: out)
    }

    /// BoringSSL's seal and open take the same arguments: context, output and its room,
    /// nonce, input, associated data.
    private typealias Operation = (
        UnsafePointer<EVP_AEAD_CTX>?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<Int>?, Int,
        UnsafePointer<UInt8>?, Int, UnsafePointer<UInt8>?, Int, UnsafePointer<UInt8>?, Int
    ) -> Int32

    @inline(__always)
    private func run(
        _ operation: Operation, _ input: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, header: UnsafeRawBufferPointer,
        out: UnsafeMutableRawBufferPointer
    ) -> Bool {
        var written = 0
        return operation(
            context, out.bytes, &written, out.count, nonce.bytes, nonce.count,
            input.bytes, input.count, header.bytes, header.count
        ) == 1
    }

    /// The twelve nonce bytes for `counter`, as Noise lays them out for this cipher.
    @inline(__always)
    static func withNonce<Result>(_ counter: UInt64, bigEndian: Bool, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        // Sixteen bytes, the last twelve used: four of the first word's zeros, then the counter.
        var nonce: (UInt64, UInt64) = (0, bigEndian ? counter.bigEndian : counter.littleEndian)
        return withUnsafeBytes(of: &nonce) { body(UnsafeRawBufferPointer(rebasing: $0[4..<16])) }
    }
}

private extension UnsafeRawBufferPointer {
    var bytes: UnsafePointer<UInt8>? { baseAddress?.assumingMemoryBound(to: UInt8.self) }
}

private extension UnsafeMutableRawBufferPointer {
    var bytes: UnsafeMutablePointer<UInt8>? { baseAddress?.assumingMemoryBound(to: UInt8.self) }
}
