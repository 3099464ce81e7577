extension WireFormat {
    /// What a datagram is: its second byte.
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
}
