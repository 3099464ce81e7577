extension WireFormat {
    /// Where the fields of the three handshake messages sit (docs/protocol.md draws them).
    public enum Initiation {
        public static let senderIndex = commonHeaderLength
        public static let ephemeral = senderIndex + 4
        public static let sealedStatic = ephemeral + publicKeyLength
        /// The timestamp, then the initiator's cipher offer.
        public static let sealedPayload = sealedStatic + publicKeyLength + tagLength
        public static let payloadLength = timestampLength + CipherOffer.length
        public static let mac1 = sealedPayload + payloadLength + tagLength
        public static let mac2 = mac1 + macLength
        public static let length = mac2 + macLength
    }

    public enum Response {
        public static let senderIndex = commonHeaderLength
        public static let receiverIndex = senderIndex + 4
        public static let ephemeral = receiverIndex + 4
        /// The responder's cipher offer.
        public static let sealedPayload = ephemeral + publicKeyLength
        public static let payloadLength = CipherOffer.length
        public static let mac1 = sealedPayload + payloadLength + tagLength
        public static let mac2 = mac1 + macLength
        public static let length = mac2 + macLength
    }

    public enum CookieReply {
        public static let receiverIndex = commonHeaderLength
        public static let nonce = receiverIndex + 4
        public static let sealedCookie = nonce + 24
        public static let length = sealedCookie + macLength + tagLength
    }
}
