/// Version 2 of the wire format (site keys, Noise IKpsk2); docs/protocol.md draws every
/// message. Version 1 (a pre-shared key alone) is refused as malformed.
///
/// Every datagram starts with the same four bytes: version, message type, two reserved
/// zero bytes. Multi-byte integers are big-endian except the AEAD nonce counter, which
/// ChaCha20-Poly1305 (RFC 8439) takes little-endian.
public enum WireFormat {
    public static let version: UInt8 = 2
    public static let commonHeaderLength = 4
    public static let tagLength = 16
    public static let publicKeyLength = 32
    public static let timestampLength = 12

    public static let macLength = 16

    /// Where the fields of the three handshake messages sit (docs/protocol.md draws them).
    public enum Initiation {
        public static let senderIndex = commonHeaderLength
        public static let ephemeral = senderIndex + 4
        public static let sealedStatic = ephemeral + publicKeyLength
        public static let sealedTimestamp = sealedStatic + publicKeyLength + tagLength
        public static let mac1 = sealedTimestamp + timestampLength + tagLength
        public static let mac2 = mac1 + macLength
        public static let length = mac2 + macLength
    }

    public enum Response {
        public static let senderIndex = commonHeaderLength
        public static let receiverIndex = senderIndex + 4
        public static let ephemeral = receiverIndex + 4
        public static let sealedEmpty = ephemeral + publicKeyLength
        public static let mac1 = sealedEmpty + tagLength
        public static let mac2 = mac1 + macLength
        public static let length = mac2 + macLength
    }

    public enum CookieReply {
        public static let receiverIndex = commonHeaderLength
        public static let nonce = receiverIndex + 4
        public static let sealedCookie = nonce + 24
        public static let length = sealedCookie + macLength + tagLength
    }

    public static let initiationLength = Initiation.length
    public static let responseLength = Response.length
    /// version, type, reserved(2), receiver index(4), counter(8)
    public static let transportHeaderLength = commonHeaderLength + 4 + 8
    /// The transport header, then network id(3) and a reserved zero byte.
    public static let dataHeaderLength = transportHeaderLength + 4
    /// What a data frame costs on top of the Ethernet frame it carries.
    public static let dataOverhead = dataHeaderLength + tagLength
    /// Sealed in front of each piece of a split frame: frame id(4), frame length(2), offset(2).
    public static let fragmentHeaderLength = 8
    /// What a fragment costs on top of the piece of frame it carries.
    public static let fragmentOverhead = dataHeaderLength + fragmentHeaderLength + tagLength

    /// The largest Ethernet frame the link carries: a 9000-byte jumbo payload with a VLAN tag.
    public static let maximumFrameLength = 9018
    public static let maximumDatagramLength = maximumFrameLength + dataOverhead

    public enum MessageType: UInt8, Sendable {
        case handshakeInitiation = 1
        case handshakeResponse = 2
        /// An Ethernet frame for one bridged network.
        case data = 3
        /// Link upkeep between the two gateways: keepalives, path MTU probes.
        case control = 4
        /// A piece of an Ethernet frame too large for one datagram on the current path.
        case fragment = 5
        /// A responder under load asks for proof of the sender's address before any
        /// Diffie-Hellman: a cookie for its next handshake message's mac2.
        case cookieReply = 6

        /// The exact length for fixed-size messages, the minimum for the others.
        var minimumLength: Int {
            switch self {
            case .handshakeInitiation: WireFormat.initiationLength
            case .handshakeResponse: WireFormat.responseLength
            case .data: WireFormat.dataHeaderLength + WireFormat.tagLength
            case .control: WireFormat.transportHeaderLength + WireFormat.tagLength + 1
            case .fragment: WireFormat.fragmentOverhead + 1
            case .cookieReply: WireFormat.CookieReply.length
            }
        }

        /// Data and fragments name the bridged network in their clear header.
        public var carriesNetworkID: Bool { self == .data || self == .fragment }

        var isFixedLength: Bool { self == .handshakeInitiation || self == .handshakeResponse || self == .cookieReply }
    }

    /// The message type of a datagram whose common header and length are well-formed.
    public static func messageType(of datagram: UnsafeRawBufferPointer) -> MessageType? {
        guard datagram.count >= commonHeaderLength,
              datagram[0] == version,
              datagram[2] == 0, datagram[3] == 0,
              let type = MessageType(rawValue: datagram[1])
        else { return nil }
        if type.isFixedLength ? datagram.count != type.minimumLength : datagram.count < type.minimumLength {
            return nil
        }
        return type
    }

    static func writeCommonHeader(_ type: MessageType, into out: UnsafeMutableRawBufferPointer) {
        out[0] = version
        out[1] = type.rawValue
        out[2] = 0
        out[3] = 0
    }
}

/// The kinds of control message, carried as the first byte of the sealed payload.
public enum ControlKind: UInt8, Sendable {
    /// Carries the sender's monotonic clock; answered by `keepaliveReply` for a round-trip time.
    case keepalive = 1
    case keepaliveReply = 2
    /// Padded to the size under test; answered by `probeAck` naming that size.
    case probe = 3
    case probeAck = 4
}

/// The clear header sealed in front of each fragment's piece of frame.
public struct FragmentHeader: Sendable, Equatable {
    public var frameID: UInt32
    /// The length of the whole frame.
    public var frameLength: UInt16
    /// Where this piece starts in the frame.
    public var offset: UInt16

    public init(frameID: UInt32, frameLength: UInt16, offset: UInt16) {
        self.frameID = frameID
        self.frameLength = frameLength
        self.offset = offset
    }

    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= WireFormat.fragmentHeaderLength else { return nil }
        frameID = bytes.loadBigEndian(at: 0, as: UInt32.self)
        frameLength = bytes.loadBigEndian(at: 4, as: UInt16.self)
        offset = bytes.loadBigEndian(at: 6, as: UInt16.self)
    }

    public func write(into out: UnsafeMutableRawBufferPointer) {
        out.storeBigEndian(frameID, at: 0)
        out.storeBigEndian(frameLength, at: 4)
        out.storeBigEndian(offset, at: 6)
    }
}

/// A 24-bit identifier of one bridged Ethernet segment.
public struct NetworkID: Hashable, Sendable, CustomStringConvertible {
    public static let maximum: UInt32 = 0xFF_FFFF
    public let rawValue: UInt32

    public init?(_ rawValue: UInt32) {
        guard rawValue <= Self.maximum else { return nil }
        self.rawValue = rawValue
    }

    public var description: String { String(rawValue) }
}
