@preconcurrency import Crypto
// swift-crypto's ChaChaPoly returns every result in a new Data: an allocation and a copy
// per frame. Its own BoringSSL, through the AEAD context API, seals and opens in the
// caller's buffers with the key schedule done once. The same primitive, fewer copies.
import CCryptoBoringSSL

/// ChaCha20-Poly1305 under one transport key, with the Noise nonce (four zero bytes, then
/// the 64-bit counter little-endian), sealing into and opening from buffers the caller owns.
final class TransportCipher: @unchecked Sendable {
    private let context: UnsafeMutablePointer<EVP_AEAD_CTX>

    init(key: SymmetricKey) {
        let made = key.withUnsafeBytes { bytes in
            CCryptoBoringSSL_EVP_AEAD_CTX_new(
                CCryptoBoringSSL_EVP_aead_chacha20_poly1305(),
                bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, WireFormat.tagLength
            )
        }
        // Fails only for a key of the wrong size; the handshake makes 32-byte keys.
        guard let made else { preconditionFailure("ChaCha20-Poly1305 takes a 32-byte key") }
        context = made
    }

    deinit {
        CCryptoBoringSSL_EVP_AEAD_CTX_free(context)
    }

    /// Writes `plaintext` encrypted, then the tag, to `out`, which may be exactly the
    /// plaintext's memory. Returns false when `out` is too small.
    func seal(
        _ plaintext: UnsafeRawBufferPointer, counter: UInt64, authenticating header: UnsafeRawBufferPointer,
        into out: UnsafeMutableRawBufferPointer
    ) -> Bool {
        run(CCryptoBoringSSL_EVP_AEAD_CTX_seal, plaintext, counter: counter, header: header, out: out)
    }

    /// Authenticates `sealed` (ciphertext, then tag) and writes the plaintext to `out`.
    /// Returns false when the tag does not match or `out` is too small.
    func open(
        _ sealed: UnsafeRawBufferPointer, counter: UInt64, authenticating header: UnsafeRawBufferPointer,
        into out: UnsafeMutableRawBufferPointer
    ) -> Bool {
        run(CCryptoBoringSSL_EVP_AEAD_CTX_open, sealed, counter: counter, header: header, out: out)
    }

    /// BoringSSL's seal and open take the same arguments: context, output and its room,
    /// nonce, input, associated data.
    private typealias Operation = (
        UnsafePointer<EVP_AEAD_CTX>?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<Int>?, Int,
        UnsafePointer<UInt8>?, Int, UnsafePointer<UInt8>?, Int, UnsafePointer<UInt8>?, Int
    ) -> Int32

    @inline(__always)
    private func run(
        _ operation: Operation, _ input: UnsafeRawBufferPointer, counter: UInt64, header: UnsafeRawBufferPointer,
        out: UnsafeMutableRawBufferPointer
    ) -> Bool {
        var written = 0
        return Self.withNonce(counter) { nonce in
            operation(
                context, out.bytes, &written, out.count, nonce.bytes, nonce.count,
                input.bytes, input.count, header.bytes, header.count
            ) == 1
        }
    }

    /// The twelve nonce bytes for `counter`, as Noise lays them out.
    @inline(__always)
    static func withNonce<Result>(_ counter: UInt64, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        var nonce: (UInt32, UInt32, UInt32) = (
            0, UInt32(truncatingIfNeeded: counter).littleEndian, UInt32(truncatingIfNeeded: counter >> 32).littleEndian
        )
        return withUnsafeBytes(of: &nonce) { body($0) }
    }
}

private extension UnsafeRawBufferPointer {
    var bytes: UnsafePointer<UInt8>? { baseAddress?.assumingMemoryBound(to: UInt8.self) }
}

private extension UnsafeMutableRawBufferPointer {
    var bytes: UnsafeMutablePointer<UInt8>? { baseAddress?.assumingMemoryBound(to: UInt8.self) }
}
