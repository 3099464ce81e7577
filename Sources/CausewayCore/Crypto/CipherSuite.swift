// Whether this processor runs AES-GCM in hardware: BoringSSL reads it from CPUID once.
import CCryptoBoringSSL

/// The AEAD that seals transport messages. Each handshake agrees on one (CipherOffer); the
/// handshake messages themselves are always sealed with ChaCha20-Poly1305, as the Noise
/// protocol name says.
///
/// Both are 256-bit AEADs with a 16-byte tag, so the choice changes speed, never overhead or
/// strength: AES-256-GCM is about four times faster per byte where AES instructions exist,
/// ChaCha20-Poly1305 is the faster one everywhere else.
public enum CipherSuite: String, CaseIterable, Sendable, Codable {
    case chacha20Poly1305 = "chacha20-poly1305"
    case aes256GCM = "aes-256-gcm"

    /// Its bit in a `CipherOffer`.
    var bit: UInt8 {
        switch self {
        case .chacha20Poly1305: 1 << 0
        case .aes256GCM: 1 << 1
        }
    }
}

/// What a gateway brings to a handshake: the suites its `cipher` setting accepts, and whether
/// this machine has AES instructions. It travels as one byte inside each handshake message's
/// sealed payload, so nobody on the path can change it, and both sides pick the same suite
/// from the two offers (`agree`) without another round trip.
public struct CipherOffer: Sendable, Equatable, CustomStringConvertible {
    /// The accepted suites' bits, and `aesHardwareBit`.
    public let byte: UInt8
    static let aesHardwareBit: UInt8 = 1 << 7
    public static let length = 1

    /// Bits this version does not know are kept but never match: a later suite simply finds
    /// nothing in common with this side.
    public init(byte: UInt8) { self.byte = byte }

    /// Every suite accepted, AES-256-GCM preferred where both sides have AES instructions:
    /// the `cipher = "auto"` of a configuration.
    public static let automatic = CipherOffer(accepting: CipherSuite.allCases, aesHardware: hasAESHardware)

    /// Only `suite`: a `cipher` that names one.
    public static func only(_ suite: CipherSuite) -> CipherOffer {
        CipherOffer(accepting: [suite], aesHardware: hasAESHardware)
    }

    /// What a configuration's `cipher` (nil: "auto") offers.
    public init(setting: CipherSuite?) {
        self = setting.map(Self.only) ?? .automatic
    }

    init(accepting suites: [CipherSuite], aesHardware: Bool) {
        byte = suites.reduce(aesHardware ? Self.aesHardwareBit : 0) { $0 | $1.bit }
    }

    public var accepted: [CipherSuite] { CipherSuite.allCases.filter { byte & $0.bit != 0 } }
    var hasAESHardware: Bool { byte & Self.aesHardwareBit != 0 }

    /// The suite two offers agree on, the same whichever side asks: AES-256-GCM when both
    /// accept it and both have AES instructions (or it is all they share), otherwise
    /// ChaCha20-Poly1305; nil when they share none.
    public static func agree(_ one: CipherOffer, _ other: CipherOffer) -> CipherSuite? {
        let shared = one.byte & other.byte
        let aes = CipherSuite.aes256GCM.bit, chacha = CipherSuite.chacha20Poly1305.bit
        switch (shared & aes != 0, shared & chacha != 0) {
        case (true, true): return one.hasAESHardware && other.hasAESHardware ? .aes256GCM : .chacha20Poly1305
        case (true, false): return .aes256GCM
        case (false, true): return .chacha20Poly1305
        case (false, false): return nil
        }
    }

    /// "aes-256-gcm or chacha20-poly1305 (AES instructions)", for logs.
    public var description: String {
        let suites = accepted.map(\.rawValue)
        let accepts = suites.isEmpty ? "no cipher this version knows" : suites.joined(separator: " or ")
        return accepts + (hasAESHardware ? " (AES instructions)" : " (no AES instructions)")
    }

    private static let hasAESHardware = CCryptoBoringSSL_EVP_has_aes_hardware() == 1
}
