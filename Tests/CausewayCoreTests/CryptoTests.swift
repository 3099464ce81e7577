import Crypto
import Testing
@testable import CausewayCore

@Suite struct ReplayWindowTests {
    @Test func acceptsEachCounterOnce() {
        var window = ReplayWindow()
        for counter: UInt64 in [0, 1, 2, 5, 3] {
            #expect(window.mayAccept(counter))
            window.accept(counter)
            #expect(!window.mayAccept(counter))
        }
        #expect(window.mayAccept(4), "a late counter inside the window is still new")
    }

    @Test func rejectsCountersBehindTheWindow() {
        var window = ReplayWindow()
        window.accept(10_000)
        #expect(!window.mayAccept(10_000 - UInt64(ReplayWindow.size)))
        #expect(window.mayAccept(10_000 - UInt64(ReplayWindow.size) + 1))
    }

    @Test func holdsAtLeast2048PacketsOfReordering() {
        var window = ReplayWindow()
        window.accept(3000)
        #expect(window.mayAccept(3000 - 2048))
    }

    @Test func slidingFarAheadForgetsOldBits() {
        var window = ReplayWindow()
        window.accept(64)
        window.accept(64 + UInt64(ReplayWindow.size) * 3)
        // Word that held 64 was reused; a stale bit would make this look like a replay.
        let reused = 64 + UInt64(ReplayWindow.size) * 3 - 64 * 3
        #expect(window.mayAccept(reused))
    }
}

/// Two sites' identities, each knowing the other's public key.
struct TwoSites {
    let a = PrivateKey.random()
    let b = PrivateKey.random()
    var psk = PreSharedKey.none

    var siteA: SiteIdentity { try! SiteIdentity(local: a, peer: b.publicKey, psk: psk) }
    var siteB: SiteIdentity { try! SiteIdentity(local: b, peer: a.publicKey, psk: psk) }

    /// A's initiation through B's two steps and back into A.
    func establish(
        initiator: SiteIdentity? = nil, responder: SiteIdentity? = nil, now: Moment = Moment(nanoseconds: 1)
    ) throws -> (SessionKeys, SessionKeys) {
        let initiatorIdentity = initiator ?? siteA, responderIdentity = responder ?? siteB
        let (pending, initiation) = Handshake.initiate(initiatorIdentity, localIndex: 11, timestamp: .init(seconds: 1, nanoseconds: 0), now: now)
        let opened = try initiation.withUnsafeBytes { try Handshake.open(initiation: $0, responderIdentity) }
        let answer = try Handshake.respond(to: opened, responderIdentity, localIndex: 22)
        let keys = try answer.response.withUnsafeBytes { try Handshake.complete(pending, response: $0, initiatorIdentity) }
        return (keys, answer.keys)
    }
}

@Suite struct HandshakeTests {
    let sites = TwoSites()
    let now = Moment(nanoseconds: 1)

    @Test func bothSidesDeriveMatchingDirectionalKeys() throws {
        let (initiator, responder) = try sites.establish()
        #expect(initiator.remoteIndex == 22 && responder.remoteIndex == 11)
        let a = Session(keys: initiator, createdAt: now)
        let b = Session(keys: responder, createdAt: now)
        #expect(try roundTrip(from: a, to: b, payload: [1, 2, 3]) == [1, 2, 3])
        #expect(try roundTrip(from: b, to: a, payload: [4, 5]) == [4, 5])
    }

    @Test func aStrangerIsRefusedAfterItsStaticKeyOpens() throws {
        let stranger = try SiteIdentity(local: .random(), peer: sites.b.publicKey)
        #expect(throws: Handshake.Failure.unknownPeer) { _ = try sites.establish(initiator: stranger) }
    }

    @Test func anInitiationSealedToAnotherKeyDoesNotOpen() throws {
        let elsewhere = try SiteIdentity(local: sites.a, peer: PrivateKey.random().publicKey)
        #expect(throws: Handshake.Failure.authentication) { _ = try sites.establish(initiator: elsewhere) }
    }

    @Test func aDifferentPreSharedKeyCannotCompleteTheHandshake() throws {
        var other = sites
        other.psk = .random()
        #expect(throws: Handshake.Failure.authentication) { _ = try sites.establish(responder: other.siteB) }
    }

    @Test func ownInitiationEchoedBackDoesNotOpen() throws {
        let (_, initiation) = Handshake.initiate(sites.siteA, localIndex: 11, timestamp: .init(seconds: 1, nanoseconds: 0), now: now)
        #expect(throws: Handshake.Failure.authentication) {
            _ = try initiation.withUnsafeBytes { try Handshake.open(initiation: $0, sites.siteA) }
        }
    }

    @Test func aTamperedResponseIsRefused() throws {
        let (pending, initiation) = Handshake.initiate(sites.siteA, localIndex: 11, timestamp: .init(seconds: 1, nanoseconds: 0), now: now)
        let opened = try initiation.withUnsafeBytes { try Handshake.open(initiation: $0, sites.siteB) }
        var response = try Handshake.respond(to: opened, sites.siteB, localIndex: 22).response
        response[50] ^= 0x40
        #expect(throws: Handshake.Failure.authentication) {
            _ = try response.withUnsafeBytes { try Handshake.complete(pending, response: $0, sites.siteA) }
        }
    }

    @Test func aLowOrderEphemeralIsRefused() throws {
        var (_, initiation) = Handshake.initiate(sites.siteA, localIndex: 11, timestamp: .init(seconds: 1, nanoseconds: 0), now: now)
        // The point of order 1 (u = 0) and of order 8: X25519 with them gives all zeros.
        for lowOrder in [[UInt8](repeating: 0, count: 32), [1] + [UInt8](repeating: 0, count: 31)] {
            initiation.replaceSubrange(WireFormat.Initiation.ephemeral..<WireFormat.Initiation.sealedStatic, with: lowOrder)
            #expect(throws: Handshake.Failure.malformed) {
                _ = try initiation.withUnsafeBytes { try Handshake.open(initiation: $0, sites.siteB) }
            }
        }
    }

    @Test func aPeerKeyOfLowOrderOrOfOurOwnIsRefused() throws {
        #expect(throws: SiteIdentity.Problem.weakPeerKey) {
            _ = try SiteIdentity(local: sites.a, peer: PublicKey(bytes: [UInt8](repeating: 0, count: 32)))
        }
        #expect(throws: SiteIdentity.Problem.peerIsSelf) { _ = try SiteIdentity(local: sites.a, peer: sites.a.publicKey) }
    }

    @Test func everyHandshakeYieldsFreshKeys() throws {
        let (first, _) = try sites.establish()
        let (second, _) = try sites.establish()
        let a = Session(keys: first, createdAt: now)
        let b = Session(keys: second, createdAt: now)
        #expect(seal(a, [9, 9, 9]) != seal(b, [9, 9, 9]), "same counter, same plaintext: only fresh keys differ")
    }

    @Test func theMessagesHaveWireGuardsSizesAndAnOfferByte() {
        #expect(WireFormat.Initiation.length == 148 + 1)
        #expect(WireFormat.Response.length == 92 + 1)
        #expect(WireFormat.CookieReply.length == 64)
    }

    @Test(arguments: [
        (CipherOffer(byte: 0x83), CipherOffer(byte: 0x83), CipherSuite.aes256GCM),
        (CipherOffer(byte: 0x83), CipherOffer(byte: 0x03), CipherSuite.chacha20Poly1305),
        (CipherOffer(byte: 0x01), CipherOffer(byte: 0x83), CipherSuite.chacha20Poly1305),
        (CipherOffer(byte: 0x02), CipherOffer(byte: 0x03), CipherSuite.aes256GCM),
    ])
    func bothSidesSealWithTheCipherTheirOffersAgreeOn(initiator: CipherOffer, responder: CipherOffer, expected: CipherSuite) throws {
        let (a, b) = try sites.establish(
            initiator: SiteIdentity(local: sites.a, peer: sites.b.publicKey, ciphers: initiator),
            responder: SiteIdentity(local: sites.b, peer: sites.a.publicKey, ciphers: responder)
        )
        #expect(a.suite == expected && b.suite == expected)
        #expect(try roundTrip(from: Session(keys: a, createdAt: now), to: Session(keys: b, createdAt: now), payload: [7, 7]) == [7, 7])
    }

    @Test func aResponderWithNoCipherInCommonRefuses() throws {
        let initiator = try SiteIdentity(local: sites.a, peer: sites.b.publicKey, ciphers: .only(.aes256GCM))
        let responder = try SiteIdentity(local: sites.b, peer: sites.a.publicKey, ciphers: .only(.chacha20Poly1305))
        #expect(throws: Handshake.Failure.noCommonCipher(theirs: .only(.aes256GCM))) {
            _ = try sites.establish(initiator: initiator, responder: responder)
        }
    }

    @Test func anInitiatorRefusesAResponseWithNoCipherInCommon() throws {
        // Only a responder that breaks the rule answers so: played here by an initiator whose
        // setting changed between its initiation and the response.
        let asked = try SiteIdentity(local: sites.a, peer: sites.b.publicKey, ciphers: .only(.aes256GCM))
        let responder = try SiteIdentity(local: sites.b, peer: sites.a.publicKey, ciphers: .only(.aes256GCM))
        let completing = try SiteIdentity(local: sites.a, peer: sites.b.publicKey, ciphers: .only(.chacha20Poly1305))
        let (pending, initiation) = Handshake.initiate(asked, localIndex: 11, timestamp: .init(seconds: 1, nanoseconds: 0), now: now)
        let opened = try initiation.withUnsafeBytes { try Handshake.open(initiation: $0, responder) }
        let response = try Handshake.respond(to: opened, responder, localIndex: 22).response
        #expect(throws: Handshake.Failure.noCommonCipher(theirs: .only(.aes256GCM))) {
            _ = try response.withUnsafeBytes { try Handshake.complete(pending, response: $0, completing) }
        }
        #expect(try response.withUnsafeBytes { try Handshake.complete(pending, response: $0, asked) }.suite == .aes256GCM)
    }
}

@Suite struct CipherOfferTests {
    @Test func everyPairOfOffersAgreesTheSameWhicheverSideAsks() {
        for one in 0...255 {
            for other in 0...255 {
                let a = CipherOffer(byte: UInt8(one)), b = CipherOffer(byte: UInt8(other))
                #expect(CipherOffer.agree(a, b) == CipherOffer.agree(b, a))
            }
        }
    }

    @Test func aesIsChosenOnlyWhereBothSidesHaveAESInstructions() {
        let both = [CipherSuite.chacha20Poly1305, .aes256GCM]
        let fast = CipherOffer(accepting: both, aesHardware: true), slow = CipherOffer(accepting: both, aesHardware: false)
        #expect(CipherOffer.agree(fast, fast) == .aes256GCM)
        #expect(CipherOffer.agree(fast, slow) == .chacha20Poly1305)
        #expect(CipherOffer.agree(slow, slow) == .chacha20Poly1305)
    }

    @Test func aNamedCipherIsAllThatSideAccepts() {
        #expect(CipherOffer.agree(.only(.chacha20Poly1305), .automatic) == .chacha20Poly1305)
        #expect(CipherOffer.agree(.only(.aes256GCM), .automatic) == .aes256GCM)
        #expect(CipherOffer.agree(.only(.aes256GCM), .only(.chacha20Poly1305)) == nil)
        #expect(CipherOffer(setting: .aes256GCM).accepted == [.aes256GCM])
    }

    @Test func suitesAVersionDoesNotKnowNeverMatch() {
        #expect(CipherOffer.agree(CipherOffer(byte: 0x7C), .automatic) == nil)
        #expect(CipherOffer(byte: 0x7C).accepted.isEmpty)
    }
}

@Suite struct SessionTests {
    let now = Moment(nanoseconds: 1)
    let sites = TwoSites()

    func pair() throws -> (Session, Session) {
        let (initiator, responder) = try sites.establish()
        return (Session(keys: initiator, createdAt: now), Session(keys: responder, createdAt: now))
    }

    @Test func aReplayedDatagramIsRefused() throws {
        let (a, b) = try pair()
        let datagram = seal(a, [7, 7])
        #expect(open(b, datagram).map(\.payloadLength) == .success(2))
        #expect(open(b, datagram).map(\.payloadLength) == .failure(.replay))
    }

    @Test func aTamperedHeaderFailsAuthentication() throws {
        let (a, b) = try pair()
        var datagram = seal(a, [7, 7], networkID: 5)
        datagram[18] ^= 1  // the network id is bound as associated data
        #expect(open(b, datagram).map(\.payloadLength) == .failure(.authentication))
    }

    @Test func aForgeryDoesNotMoveTheReplayWindow() throws {
        let (a, b) = try pair()
        var forged = seal(a, [1])
        forged.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(5000).bigEndian, toByteOffset: 8, as: UInt64.self) }
        #expect(open(b, forged).map(\.payloadLength) == .failure(.authentication))
        #expect(open(b, seal(a, [1])).map(\.payloadLength) == .success(1), "counter 1 is still accepted")
    }

    @Test func sealsInPlaceExactlyAsFromASeparateBuffer() throws {
        let (keys, _) = try sites.establish()
        let payload: [UInt8] = Array(0..<200)
        let separate = seal(Session(keys: keys, createdAt: now), payload)
        var inPlace = [UInt8](repeating: 0, count: payload.count + WireFormat.dataOverhead)
        inPlace.replaceSubrange(WireFormat.dataHeaderLength..<(WireFormat.dataHeaderLength + payload.count), with: payload)
        let length = inPlace.withUnsafeMutableBytes { out in
            Session(keys: keys, createdAt: now).seal(
                .data, networkID: NetworkID(1),
                payload: UnsafeRawBufferPointer(rebasing: out[WireFormat.dataHeaderLength..<(WireFormat.dataHeaderLength + payload.count)]),
                into: out
            )
        }
        #expect(length == separate.count)
        #expect(inPlace == separate)
    }

    @Test func carriesTheNetworkID() throws {
        let (a, b) = try pair()
        #expect(open(b, seal(a, [1, 2], networkID: 0xABCDEF)).map(\.networkID) == .success(0xABCDEF))
    }
}

/// The data path's ciphers against swift-crypto's ChaChaPoly and AES.GCM, the references the
/// protocol document names: the same ciphertext and tag, the nonce's high counter bits and
/// byte order included.
@Suite struct TransportCipherTests {
    let key = SymmetricKey(size: .bits256)
    let header: [UInt8] = [4, 0, 0, 0, 9, 9, 9, 9]
    let plaintext: [UInt8] = Array("a frame crossing the WAN".utf8)

    /// Four zero bytes, then the counter: little-endian for ChaChaPoly, big-endian for AESGCM,
    /// as Noise lays out each cipher's nonce.
    static func referenceNonce(_ counter: UInt64, _ suite: CipherSuite) -> [UInt8] {
        [0, 0, 0, 0] + withUnsafeBytes(of: suite == .aes256GCM ? counter.bigEndian : counter.littleEndian, Array.init)
    }

    /// swift-crypto's own AEAD of `suite`: ciphertext then tag.
    func referenceSeal(_ suite: CipherSuite, counter: UInt64) throws -> [UInt8] {
        let nonce = Self.referenceNonce(counter, suite)
        switch suite {
        case .chacha20Poly1305:
            let box = try ChaChaPoly.seal(plaintext, using: key, nonce: ChaChaPoly.Nonce(data: nonce), authenticating: header)
            return Array(box.ciphertext) + Array(box.tag)
        case .aes256GCM:
            let box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(data: nonce), authenticating: header)
            return Array(box.ciphertext) + Array(box.tag)
        }
    }

    static let counters: [UInt64] = [0, 1, 0x0102_0304_0506_0708]

    @Test(arguments: CipherSuite.allCases, counters)
    func sealsWhatSwiftCryptoSeals(suite: CipherSuite, counter: UInt64) throws {
        var sealed = [UInt8](repeating: 0, count: plaintext.count + WireFormat.tagLength)
        let done = plaintext.withUnsafeBytes { input in
            header.withUnsafeBytes { ad in
                sealed.withUnsafeMutableBytes { TransportCipher(key: key, suite: suite).seal(input, counter: counter, authenticating: ad, into: $0) }
            }
        }
        #expect(done)
        #expect(sealed == (try referenceSeal(suite, counter: counter)))
    }

    @Test(arguments: CipherSuite.allCases)
    func opensWhatSwiftCryptoSeals(suite: CipherSuite) throws {
        let sealed = try referenceSeal(suite, counter: 1 << 40)
        var opened = [UInt8](repeating: 0, count: plaintext.count)
        let cipher = TransportCipher(key: key, suite: suite)
        func open(counter: UInt64, header: [UInt8]) -> Bool {
            sealed.withUnsafeBytes { input in
                header.withUnsafeBytes { ad in
                    opened.withUnsafeMutableBytes { cipher.open(input, counter: counter, authenticating: ad, into: $0) }
                }
            }
        }
        #expect(open(counter: 1 << 40, header: header))
        #expect(opened == plaintext)
        #expect(!open(counter: 1 << 41, header: header), "another nonce")
        #expect(!open(counter: 1 << 40, header: [5] + header.dropFirst()), "another header")
    }

    @Test func theExtendedNonceCipherIsXChaCha20Poly1305() throws {
        // draft-irtf-cfrg-xchacha-03, appendix A.3.1.
        let key = SymmetricKey(data: hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"))
        let nonce = hex("404142434445464748494a4b4c4d4e4f5051525354555657")
        let associated = hex("50515253c0c1c2c3c4c5c6c7")
        let message = Array("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.".utf8)
        var sealed = [UInt8](repeating: 0, count: message.count + WireFormat.tagLength)
        let cipher = TransportCipher(extendedNonceKey: key)
        let done = message.withUnsafeBytes { input in
            nonce.withUnsafeBytes { n in
                associated.withUnsafeBytes { ad in sealed.withUnsafeMutableBytes { cipher.seal(input, nonce: n, authenticating: ad, into: $0) } }
            }
        }
        #expect(done)
        #expect(Array(sealed.suffix(16)) == hex("c0875924c1c7987947deafd8780acf49"))
        #expect(Array(sealed.prefix(8)) == hex("bd6d179d3e83d43b"))
    }

    @Test func refusesAnOutputTooSmall() {
        var sealed = [UInt8](repeating: 0, count: plaintext.count + WireFormat.tagLength - 1)
        let done = plaintext.withUnsafeBytes { input in
            header.withUnsafeBytes { ad in
                sealed.withUnsafeMutableBytes { TransportCipher(key: key, suite: .aes256GCM).seal(input, counter: 0, authenticating: ad, into: $0) }
            }
        }
        #expect(!done)
    }
}

func seal(_ session: Session, _ payload: [UInt8], networkID: UInt32 = 1, lane: Int = 0) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: payload.count + WireFormat.dataOverhead)
    let length = payload.withUnsafeBytes { body in
        out.withUnsafeMutableBytes { session.seal(.data, networkID: NetworkID(networkID), payload: body, into: $0, lane: lane) }
    }
    return Array(out[0..<length!])
}

func open(_ session: Session, _ datagram: [UInt8], lane: Lane = .only) -> Result<Session.Opened, DropReason> {
    var out = [UInt8](repeating: 0, count: 2048)
    return datagram.withUnsafeBytes { bytes in
        out.withUnsafeMutableBytes { session.open(bytes, type: .data, into: $0, lane: lane) }
    }
}

func roundTrip(from sender: Session, to receiver: Session, payload: [UInt8]) throws -> [UInt8] {
    let datagram = seal(sender, payload)
    var out = [UInt8](repeating: 0, count: 2048)
    let opened = try datagram.withUnsafeBytes { bytes in
        try out.withUnsafeMutableBytes { try receiver.open(bytes, type: .data, into: $0).get() }
    }
    return Array(out[0..<opened.payloadLength])
}

func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}
