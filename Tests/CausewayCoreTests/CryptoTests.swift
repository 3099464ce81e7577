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

@Suite struct HandshakeTests {
    let psk = PreSharedKey.random()
    let now = Moment(nanoseconds: 1)

    func establish(initiatorKey: PreSharedKey? = nil, responderKey: PreSharedKey? = nil) throws -> (SessionKeys, SessionKeys) {
        let (initiator, initiation) = Handshake.initiate(psk: initiatorKey ?? psk, localIndex: 11, timestamp: .init(seconds: 1, nanoseconds: 0), now: now)
        let answer = try Handshake.respond(to: initiation, psk: responderKey ?? psk, localIndex: 22)
        let keys = try Handshake.complete(initiator, response: answer.response)
        return (keys, answer.keys)
    }

    @Test func bothSidesDeriveMatchingDirectionalKeys() throws {
        let (initiator, responder) = try establish()
        #expect(initiator.remoteIndex == 22 && responder.remoteIndex == 11)
        let a = Session(keys: initiator, createdAt: now)
        let b = Session(keys: responder, createdAt: now)
        #expect(try roundTrip(from: a, to: b, payload: [1, 2, 3]) == [1, 2, 3])
        #expect(try roundTrip(from: b, to: a, payload: [4, 5]) == [4, 5])
    }

    @Test func aDifferentKeyCannotCompleteTheHandshake() {
        #expect(throws: Handshake.Failure.authentication) {
            _ = try establish(responderKey: PreSharedKey.random())
        }
    }

    @Test func aTamperedResponseIsRefused() throws {
        let (initiator, initiation) = Handshake.initiate(psk: psk, localIndex: 11, timestamp: .init(seconds: 1, nanoseconds: 0), now: now)
        var response = try Handshake.respond(to: initiation, psk: psk, localIndex: 22).response
        response[20] ^= 0x40
        #expect(throws: Handshake.Failure.self) { _ = try Handshake.complete(initiator, response: response) }
    }

    @Test func aTamperedIndexIsRefused() throws {
        var (_, initiation) = Handshake.initiate(psk: psk, localIndex: 11, timestamp: .init(seconds: 1, nanoseconds: 0), now: now)
        initiation[7] ^= 1
        #expect(throws: Handshake.Failure.authentication) { _ = try Handshake.respond(to: initiation, psk: psk, localIndex: 22) }
    }

    @Test func everyHandshakeYieldsFreshKeys() throws {
        let (first, _) = try establish()
        let (second, _) = try establish()
        let a = Session(keys: first, createdAt: now)
        let b = Session(keys: second, createdAt: now)
        #expect(seal(a, [9, 9, 9]) != seal(b, [9, 9, 9]), "same counter, same plaintext: only fresh keys differ")
    }
}

@Suite struct SessionTests {
    let now = Moment(nanoseconds: 1)
    let psk = PreSharedKey.random()

    func pair() throws -> (Session, Session) {
        let (i, message) = Handshake.initiate(psk: psk, localIndex: 1, timestamp: .zero, now: now)
        let answer = try Handshake.respond(to: message, psk: psk, localIndex: 2)
        return (Session(keys: try Handshake.complete(i, response: answer.response), createdAt: now), Session(keys: answer.keys, createdAt: now))
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
        let (initiator, initiation) = Handshake.initiate(psk: psk, localIndex: 1, timestamp: .zero, now: now)
        let keys = try Handshake.complete(initiator, response: Handshake.respond(to: initiation, psk: psk, localIndex: 2).response)
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

/// The data path's cipher against swift-crypto's ChaChaPoly, the reference the protocol
/// document names: the same ciphertext and tag, the nonce's high counter bits included.
@Suite struct TransportCipherTests {
    let key = SymmetricKey(size: .bits256)
    let header: [UInt8] = [4, 0, 0, 0, 9, 9, 9, 9]
    let plaintext: [UInt8] = Array("a frame crossing the WAN".utf8)

    /// Four zero bytes, then the counter little-endian: Noise's nonce for ChaChaPoly.
    func referenceNonce(_ counter: UInt64) throws -> ChaChaPoly.Nonce {
        try ChaChaPoly.Nonce(data: [0, 0, 0, 0] + withUnsafeBytes(of: counter.littleEndian, Array.init))
    }

    @Test(arguments: [0, 1, 0x0102_0304_0506_0708] as [UInt64])
    func sealsWhatChaChaPolyOpens(counter: UInt64) throws {
        var sealed = [UInt8](repeating: 0, count: plaintext.count + WireFormat.tagLength)
        let done = plaintext.withUnsafeBytes { input in
            header.withUnsafeBytes { ad in
                sealed.withUnsafeMutableBytes { TransportCipher(key: key).seal(input, counter: counter, authenticating: ad, into: $0) }
            }
        }
        #expect(done)
        let box = try ChaChaPoly.SealedBox(
            nonce: referenceNonce(counter), ciphertext: sealed.prefix(plaintext.count), tag: sealed.suffix(WireFormat.tagLength)
        )
        #expect(try Array(ChaChaPoly.open(box, using: key, authenticating: header)) == plaintext)
    }

    @Test func opensWhatChaChaPolySeals() throws {
        let box = try ChaChaPoly.seal(plaintext, using: key, nonce: referenceNonce(1 << 40), authenticating: header)
        let sealed = Array(box.ciphertext) + Array(box.tag)
        var opened = [UInt8](repeating: 0, count: plaintext.count)
        let cipher = TransportCipher(key: key)
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

    @Test func refusesAnOutputTooSmall() {
        var sealed = [UInt8](repeating: 0, count: plaintext.count + WireFormat.tagLength - 1)
        let done = plaintext.withUnsafeBytes { input in
            header.withUnsafeBytes { ad in
                sealed.withUnsafeMutableBytes { TransportCipher(key: key).seal(input, counter: 0, authenticating: ad, into: $0) }
            }
        }
        #expect(!done)
    }
}

func seal(_ session: Session, _ payload: [UInt8], networkID: UInt32 = 1) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: payload.count + WireFormat.dataOverhead)
    let length = payload.withUnsafeBytes { body in
        out.withUnsafeMutableBytes { session.seal(.data, networkID: NetworkID(networkID), payload: body, into: $0) }
    }
    return Array(out[0..<length!])
}

func open(_ session: Session, _ datagram: [UInt8]) -> Result<Session.Opened, DropReason> {
    var out = [UInt8](repeating: 0, count: 2048)
    return datagram.withUnsafeBytes { bytes in
        out.withUnsafeMutableBytes { session.open(bytes, type: .data, into: $0) }
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
