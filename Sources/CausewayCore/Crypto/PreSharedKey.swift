/// An optional 256-bit key both gateways of a link share, mixed into every handshake on top
/// of the site keys (as WireGuard's preshared key): a second layer, for example against a
/// future break of Curve25519. Without one the handshake mixes in 32 zero bytes.
public struct PreSharedKey: Sendable, Equatable {
    public static let length = KeyText.length
    public typealias ParseError = KeyParseError
    public let bytes: [UInt8]

    /// The key used when the configuration names none.
    public static let none = PreSharedKey(validBytes: [UInt8](repeating: 0, count: length))

    private init(validBytes: [UInt8]) { bytes = validBytes }

    public init(bytes: [UInt8]) throws(ParseError) {
        guard bytes.count == Self.length else { throw .wrongLength(bytes.count) }
        self.bytes = bytes
    }

    /// Parses the contents of a key file.
    public init(base64 text: String) throws(ParseError) {
        bytes = try KeyText.bytes(of: text)
    }

    public static func random() -> PreSharedKey { PreSharedKey(validBytes: KeyText.randomBytes()) }

    public var base64: String { KeyText.text(of: bytes) }
}
