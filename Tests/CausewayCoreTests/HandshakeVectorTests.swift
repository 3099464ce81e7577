import Crypto
import Foundation
import Testing
@testable import CausewayCore

/// Causeway's handshake against known answers from an independent Noise implementation
/// (Python's noiseprotocol, through Tests/noise/interop.py, which `make test` also reruns
/// against the same file): the same transcript, the same transport keys and the same agreed
/// transport cipher with its nonce, with Causeway as initiator and as responder.
@Suite struct HandshakeVectorTests {
    struct Vectors: Decodable {
        let `protocol`: String
        let prologue: String
        let vectors: [Vector]
    }

    struct Vector: Decodable, CustomTestStringConvertible {
        let name: String
        let initiator_static_private: String
        let responder_static_private: String
        let initiator_ephemeral_private: String
        let responder_ephemeral_private: String
        let psk: String
        let initiation_payload: String
        let initiator_offer: UInt8
        let responder_offer: UInt8
        let response_payload: String
        let transport_cipher: String
        let transport_counter: UInt64
        let initiation: String
        let response: String
        let initiator_to_responder_key: String
        let responder_to_initiator_key: String
        let transport_plaintext: String
        let initiator_transport_ciphertext: String
        let responder_transport_ciphertext: String

        var testDescription: String { name }
    }

    static let file: Vectors = {
        let url = Bundle.module.url(forResource: "noise-ikpsk2", withExtension: "json", subdirectory: "Vectors")!
        return try! JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }()

    static func key(_ text: String) -> PrivateKey { try! PrivateKey(base64: KeyText.text(of: hex(text))) }

    struct Sides {
        let initiator: SiteIdentity
        let responder: SiteIdentity
        init(_ vector: Vector) {
            let psk = try! PreSharedKey(bytes: hex(vector.psk))
            let initiatorKey = HandshakeVectorTests.key(vector.initiator_static_private)
            let responderKey = HandshakeVectorTests.key(vector.responder_static_private)
            initiator = try! SiteIdentity(local: initiatorKey, peer: responderKey.publicKey, psk: psk, ciphers: CipherOffer(byte: vector.initiator_offer))
            responder = try! SiteIdentity(local: responderKey, peer: initiatorKey.publicKey, psk: psk, ciphers: CipherOffer(byte: vector.responder_offer))
        }
    }

    @Test func theFileNamesOurPatternAndPrologue() {
        #expect(Self.file.protocol == Handshake.protocolName)
        #expect(hex(Self.file.prologue) == Handshake.prologue)
        #expect(Self.file.vectors.count == 2)
        // Between them the vectors agree on each cipher once.
        #expect(Set(Self.file.vectors.map(\.transport_cipher)) == Set(CipherSuite.allCases.map(\.rawValue)))
    }

    @Test(arguments: file.vectors)
    func asInitiatorCausewayWritesTheSameInitiationAndDerivesTheSameKeys(_ vector: Vector) throws {
        let sides = Sides(vector)
        let timestamp = try #require(HandshakeTimestamp(bytes: Array(hex(vector.initiation_payload).prefix(WireFormat.timestampLength))))
        let (pending, initiation) = Handshake.initiate(
            sides.initiator, localIndex: 7, timestamp: timestamp, now: .zero, ephemeral: Self.key(vector.initiator_ephemeral_private)
        )
        #expect(Array(initiation[WireFormat.Initiation.ephemeral..<WireFormat.Initiation.mac1]) == hex(vector.initiation))

        let response = Self.frame(.handshakeResponse, noise: hex(vector.response), indices: [9, 7], length: WireFormat.Response.length)
        let keys = try response.withUnsafeBytes { try Handshake.complete(pending, response: $0, sides.initiator) }
        #expect(keys.sending.bytes == hex(vector.initiator_to_responder_key))
        #expect(keys.receiving.bytes == hex(vector.responder_to_initiator_key))
        #expect(keys.suite.rawValue == vector.transport_cipher)
        #expect(Self.transport(keys.sending, keys.suite, vector) == hex(vector.initiator_transport_ciphertext))
    }

    @Test(arguments: file.vectors)
    func asResponderCausewayOpensTheInitiationAndWritesTheSameResponse(_ vector: Vector) throws {
        let sides = Sides(vector)
        let initiation = Self.frame(.handshakeInitiation, noise: hex(vector.initiation), indices: [7], length: WireFormat.Initiation.length)
        let opened = try initiation.withUnsafeBytes { try Handshake.open(initiation: $0, sides.responder) }
        #expect(opened.timestamp.bytes + [opened.offer.byte] == hex(vector.initiation_payload))
        let answer = try Handshake.respond(to: opened, sides.responder, localIndex: 9, ephemeral: Self.key(vector.responder_ephemeral_private))
        #expect(Array(answer.response[WireFormat.Response.ephemeral..<WireFormat.Response.mac1]) == hex(vector.response))
        #expect(answer.keys.receiving.bytes == hex(vector.initiator_to_responder_key))
        #expect(answer.keys.sending.bytes == hex(vector.responder_to_initiator_key))
        #expect(answer.keys.suite.rawValue == vector.transport_cipher)
        #expect(Self.transport(answer.keys.sending, answer.keys.suite, vector) == hex(vector.responder_transport_ciphertext))
    }

    /// Noise bytes in Causeway's frame: header, indices, then zero mac fields.
    static func frame(_ type: WireFormat.MessageType, noise: [UInt8], indices: [UInt32], length: Int) -> [UInt8] {
        var message = [WireFormat.version, type.rawValue, 0, 0] + indices.flatMap(Handshake.bigEndianBytes) + noise
        message += [UInt8](repeating: 0, count: length - message.count)
        return message
    }

    /// The vector's transport message under `key`: its counter, no associated data.
    static func transport(_ key: SymmetricKey, _ suite: CipherSuite, _ vector: Vector) -> [UInt8] {
        let plaintext = hex(vector.transport_plaintext)
        var sealed = [UInt8](repeating: 0, count: plaintext.count + WireFormat.tagLength)
        _ = plaintext.withUnsafeBytes { input in
            sealed.withUnsafeMutableBytes {
                TransportCipher(key: key, suite: suite).seal(
                    input, counter: vector.transport_counter, authenticating: UnsafeRawBufferPointer(start: nil, count: 0), into: $0
                )
            }
        }
        return sealed
    }
}

extension SymmetricKey {
    var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
}
