@testable import CausewayCore
import Testing

/// Keys that do not match are said in the log, once a minute at most, with what to compare:
/// not only a drop counter that moves.
@Suite struct KeyMismatchTests {
    /// Every event each side reported while the link ran for `duration`.
    func events(of link: BackToBackLink, for duration: Duration) -> (a: [LinkEvents], b: [LinkEvents]) {
        var a: [LinkEvents] = [], b: [LinkEvents] = []
        let end = link.now + duration
        while link.now < end {
            link.run(for: .milliseconds(100))
            a += link.events(of: link.a)
            b += link.events(of: link.b)
        }
        return (a, b)
    }

    @Test func aPeerNamedWithAWrongKeyIsSaidOnBothSides() throws {
        let keyA = PrivateKey.random(), keyB = PrivateKey.random(), wrong = PrivateKey.random().publicKey
        // A has B right; B names some other key for A.
        let link = try BackToBackLink(sites: (
            try SiteIdentity(local: keyA, peer: keyB.publicKey), try SiteIdentity(local: keyB, peer: wrong)
        ))
        let (a, b) = events(of: link, for: .seconds(100))
        #expect(b.contains { $0.strangerKey == keyA.publicKey && $0.strangerAddress == BackToBackLink.addressA },
                "B says which key A's handshakes carry")
        #expect(a.contains { $0.addressedToAnotherKey }, "A says B's handshakes are not addressed to A's key")
        #expect(a.contains { $0.handshakeGaveUp } || b.contains { $0.handshakeGaveUp }, "neither side gets a session: said once attempts pause")
        #expect(b.filter { $0.strangerKey != nil }.count <= 2, "once a minute, not per handshake")
        #expect(!link.a.link.isUp(now: link.now))
    }

    @Test func differentPreSharedKeysAreSaidByTheInitiator() throws {
        let keyA = PrivateKey.random(), keyB = PrivateKey.random()
        let link = try BackToBackLink(sites: (
            try SiteIdentity(local: keyA, peer: keyB.publicKey, psk: PreSharedKey.random()),
            try SiteIdentity(local: keyB, peer: keyA.publicKey, psk: PreSharedKey.random())
        ))
        let (a, b) = events(of: link, for: .seconds(10))
        #expect((a + b).contains { $0.responseNotAuthenticated })
        #expect(!(a + b).contains { $0.strangerKey != nil || $0.addressedToAnotherKey }, "the site keys are right")
    }

    @Test func ciphersWithNothingInCommonAreSaidByTheResponder() throws {
        let keyA = PrivateKey.random(), keyB = PrivateKey.random()
        let link = try BackToBackLink(sites: (
            try SiteIdentity(local: keyA, peer: keyB.publicKey, ciphers: .only(.aes256GCM)),
            try SiteIdentity(local: keyB, peer: keyA.publicKey, ciphers: .only(.chacha20Poly1305))
        ))
        let (a, b) = events(of: link, for: .seconds(100))
        #expect(a.contains { $0.noCommonCipher?.accepted == [.chacha20Poly1305] }, "A says what B accepts")
        #expect(b.contains { $0.noCommonCipher?.accepted == [.aes256GCM] }, "B says what A accepts")
        #expect((a + b).filter { $0.noCommonCipher != nil }.count <= 4, "once a minute on each side, not per handshake")
        #expect(!(a + b).contains { $0.strangerKey != nil || $0.addressedToAnotherKey || $0.responseNotAuthenticated }, "the keys are right")
        #expect(link.a.peers[0].counters.drops(.noCommonCipher) > 0 && link.b.peers[0].counters.drops(.noCommonCipher) > 0)
        #expect(!link.a.link.isUp(now: link.now) && !link.b.link.isUp(now: link.now))
    }

    @Test(arguments: CipherSuite.allCases)
    func aCipherNamedOnOneSideIsWhatBothUse(_ suite: CipherSuite) throws {
        let keyA = PrivateKey.random(), keyB = PrivateKey.random()
        let link = try BackToBackLink(sites: (
            try SiteIdentity(local: keyA, peer: keyB.publicKey, ciphers: .only(suite)),
            try SiteIdentity(local: keyB, peer: keyA.publicKey)
        ))
        _ = events(of: link, for: .seconds(5))
        #expect(link.a.link.current?.suite == suite && link.b.link.current?.suite == suite)
        #expect(link.a.link.isUp(now: link.now))
    }

    @Test func matchingKeysSayNothingOfTheKind() throws {
        let link = try BackToBackLink()
        let (a, b) = events(of: link, for: .seconds(10))
        #expect(!(a + b).contains {
            $0.strangerKey != nil || $0.addressedToAnotherKey || $0.responseNotAuthenticated || $0.handshakeGaveUp || $0.noCommonCipher != nil
        })
        #expect(link.a.link.isUp(now: link.now))
    }
}
