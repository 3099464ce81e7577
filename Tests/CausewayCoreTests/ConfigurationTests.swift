import Testing
@testable import CausewayCore

@Suite struct ConfigurationTests {
    static let peerKey = PrivateKey.random().publicKey
    /// The [peer] table written inline, so that the tests can append top-level keys.
    static let minimal = """
        bridge = "br0"
        lan-interface = "eth1"
        tap = "cw0"
        listen = "198.18.0.1:51820"
        private-key-file = "site.key"
        peer = { public-key = "\(peerKey.base64)", endpoint = "198.18.0.2:51820" }
        """

    /// The minimal configuration with one key's value replaced (nil: the key removed);
    /// "peer.endpoint" and "peer.public-key" name the keys of the [peer] table.
    static func minimal(_ key: String, _ value: String?) -> String {
        var fields = [
            ("bridge", "br0"), ("lan-interface", "eth1"), ("tap", "cw0"), ("listen", "198.18.0.1:51820"),
            ("private-key-file", "site.key"), ("peer.public-key", peerKey.base64), ("peer.endpoint", "198.18.0.2:51820"),
        ]
        fields = fields.compactMap { $0.0 == key ? value.map { (key, $0) } : $0 }
        let top = fields.filter { !$0.0.hasPrefix("peer.") }.map { "\($0.0) = \"\($0.1)\"" }
        let peer = fields.filter { $0.0.hasPrefix("peer.") }.map { "\($0.0.dropFirst(5)) = \"\($0.1)\"" }
        return (top + ["", "[peer]"] + peer).joined(separator: "\n")
    }

    func parse(_ text: String) throws(ConfigurationError) -> Configuration {
        try Configuration(toml: text, file: "/etc/causeway/site.toml")
    }

    func problem(_ text: String) -> ConfigurationError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func aHoldTimeLongerThanTheAgingTimeIsRefused() {
        let error = problem("mac-aging-time = 10\nmac-hold-time = 20\n" + Self.minimal)
        #expect(error?.key == "mac-hold-time")
        #expect(error?.problem.contains("mac-aging-time") == true)
        #expect(problem("mac-aging-time = 10\nmac-hold-time = 10\n" + Self.minimal) == nil)
    }

    @Test func dataPlaneThreadsAreANumberOrLeftToTheMachine() throws {
        #expect(try parse(Self.minimal).dataPlaneThreads == nil)
        #expect(try parse("data-plane-threads = \"auto\"\n" + Self.minimal).laneCount(cores: 8) == 4)
        let fixed = try parse("data-plane-threads = 3\n" + Self.minimal)
        #expect(fixed.laneCount(cores: 1) == 3)
        #expect(ReloadRules.keysThatCannotChangeLive(from: try parse(Self.minimal), to: fixed) == ["'data-plane-threads'"])
    }

    @Test func theCipherIsAutoOrOneSuiteAndOnlyARestartChangesIt() throws {
        #expect(try parse(Self.minimal).cipher == nil)
        #expect(try parse("cipher = \"auto\"\n" + Self.minimal).cipher == nil)
        let pinned = try parse("cipher = \"chacha20-poly1305\"\n" + Self.minimal)
        #expect(pinned.cipher == .chacha20Poly1305)
        #expect(try parse("cipher = \"aes-256-gcm\"\n" + Self.minimal).cipher == .aes256GCM)
        #expect(ReloadRules.keysThatCannotChangeLive(from: try parse(Self.minimal), to: pinned) == ["'cipher'"])
    }

    @Test func anUnsetHoldTimeNeverOutlastsTheAgingTime() throws {
        #expect(try parse("mac-aging-time = 2\n" + Self.minimal).macHoldTime == .seconds(2))
        #expect(try parse(Self.minimal).macHoldTime == Configuration.defaultMACHoldTime)
    }

    @Test func aMinimalConfigurationTakesTheDefaults() throws {
        let configuration = try parse(Self.minimal)
        #expect(configuration.bridge == "br0")
        #expect(configuration.privateKeyFile == "/etc/causeway/site.key", "a relative key path is taken from the config's folder")
        #expect(configuration.presharedKeyFile == nil)
        #expect(configuration.peers == [PeerConfiguration(name: Configuration.solePeerName, publicKey: Self.peerKey, endpoint: SocketEndpoint("198.18.0.2:51820"))])
        #expect(!configuration.hub)
        #expect(configuration.macAgingTime == .seconds(300))
        #expect(configuration.macTableSize == 4096)
        #expect(configuration.keepaliveInterval == .seconds(5))
        #expect(configuration.networkID.rawValue == 1)
        #expect(configuration.logLevel == .info)
        #expect(configuration.migrateAddresses == false)
        #expect(configuration.controlSocket == "/run/causeway/site.sock", "named after the configuration file")
    }

    @Test func everyOptionalKeyIsRead() throws {
        let configuration = try parse(Self.minimal + """

            network-id = 4242
            mac-aging-time = 60
            mac-table-size = 128
            keepalive-interval = 2
            log-level = "debug"
            migrate-addresses = true
            control-socket = "run/site.sock"
            preshared-key-file = "/etc/causeway/link.psk"
            """)
        #expect(configuration.presharedKeyFile == "/etc/causeway/link.psk")
        #expect(configuration.networkID.rawValue == 4242)
        #expect(configuration.macAgingTime == .seconds(60))
        #expect(configuration.macTableSize == 128)
        #expect(configuration.keepaliveInterval == .seconds(2))
        #expect(configuration.logLevel == .debug)
        #expect(configuration.migrateAddresses)
        #expect(configuration.controlSocket == "/etc/causeway/run/site.sock")
    }

    @Test func readsIPv6Endpoints() throws {
        let configuration = try parse(Self.minimal
            .replacingOccurrences(of: "198.18.0.1:51820", with: "[fd00:18::1]:51820")
            .replacingOccurrences(of: "198.18.0.2:51820", with: "[fd00:18::2]:4789"))
        let endpoint = try #require(configuration.peers.first?.endpoint)
        #expect(endpoint.isIPv6)
        #expect(endpoint.port == 4789)
        #expect(endpoint.description == "[fd00:18:0:0:0:0:0:2]:4789")
    }

    @Test(arguments: [
        ("colour = \"blue\"", "key 'colour': unknown key"),
        ("mac-aging-time = 0", "key 'mac-aging-time': 0 is outside 1...86400"),
        ("mac-table-size = \"big\"", "key 'mac-table-size': expected an integer"),
        ("network-id = 16777216", "key 'network-id': 16777216 is outside"),
        ("log-level = \"loud\"", "key 'log-level': 'loud' is not one of"),
        ("migrate-addresses = \"yes\"", "key 'migrate-addresses': expected true or false"),
        ("control-socket = \"\"", "key 'control-socket': is empty"),
        ("cipher = \"aes-128-gcm\"", "key 'cipher': 'aes-128-gcm' is not one of auto, chacha20-poly1305, aes-256-gcm"),
        ("data-plane-threads = 0", "key 'data-plane-threads': 0 is outside 1...16"),
        ("data-plane-threads = 17", "key 'data-plane-threads': 17 is outside 1...16"),
        ("data-plane-threads = \"many\"", "key 'data-plane-threads': expected an integer from 1 to 16 or \"auto\", found 'many'"),
        ("control-socket = \"/\(String(repeating: "x", count: 110))\"", "key 'control-socket': '/xxx"),
    ])
    func refusesBadOptionalValues(line: String, message: String) throws {
        let error = try #require(problem(Self.minimal + "\n" + line))
        #expect(error.description.hasPrefix("/etc/causeway/site.toml: "))
        #expect(error.description.contains(message), "\(error)")
    }

    @Test(arguments: [
        ("peer.endpoint", "198.18.0.300:51820", "'198.18.0.300:51820' is not ADDRESS:PORT"),
        ("peer.endpoint", "198.18.0.2", "is not ADDRESS:PORT"),
        ("listen", "198.18.0.1:70000", "is not ADDRESS:PORT"),
        ("listen", "198.18.0.1:0", "is not ADDRESS:PORT"),
        ("peer.endpoint", "[fd00::1::2]:51820", "is not ADDRESS:PORT"),
        ("peer.public-key", "not a key", "is not base64 text; it is what causewayd pubkey prints"),
        ("peer.public-key", "AAAAAAAAAAAAAAAAAAAAAA==", "holds 16 bytes, a key has 32"),
        ("tap", "a-name-longer-than-15", "longer than 15 bytes"),
        ("tap", "cw/0", "not a valid interface name"),
        ("tap", "br0", "'br0' is also the bridge"),
        ("peer.endpoint", "0.0.0.0:51820", "unspecified address"),
        ("peer.endpoint", "[fd00::2]:51820", "not of the listen address's family"),
    ])
    func refusesBadRequiredValues(key: String, value: String, message: String) throws {
        let error = try #require(problem(Self.minimal(key, value)))
        #expect(error.key == key)
        #expect(error.description.contains(message), "\(error)")
    }

    @Test(arguments: ["bridge", "lan-interface", "tap", "listen", "private-key-file", "peer.public-key"])
    func refusesAMissingRequiredKey(_ key: String) throws {
        let error = try #require(problem(Self.minimal(key, nil)))
        #expect(error.description == "/etc/causeway/site.toml: key '\(key)': missing; it is required")
    }

    @Test func readsThePeerTableWrittenAsASection() throws {
        let configuration = try parse(Self.minimal("bridge", "br1"))
        #expect(configuration.bridge == "br1")
        #expect(configuration.peers.first?.endpoint?.description == "198.18.0.2:51820")
    }

    @Test func refusesAnUnknownKeyInThePeerTable() throws {
        let error = try #require(problem(Self.minimal("bridge", "br0") + "\npublickey = \"x\""))
        #expect(error.key == "peer.publickey", "\(error)")
    }

    @Test func aVersion1ConfigurationSaysWhatToChange() throws {
        let version1 = """
            bridge = "br0"
            lan-interface = "eth1"
            tap = "cw0"
            listen = "198.18.0.1:51820"
            peer = "198.18.0.2:51820"
            key-file = "causeway.key"
            """
        let error = try #require(problem(version1))
        #expect(error.key == "key-file")
        #expect(error.description.contains("causewayd genkey") && error.description.contains("private-key-file")
                && error.description.contains("preshared-key-file") && error.description.contains("docs/operations.md"), "\(error)")
        let peerAsAddress = try #require(problem(version1.replacingOccurrences(of: "key-file", with: "private-key-file")))
        #expect(peerAsAddress.key == "peer")
        #expect(peerAsAddress.description.contains("[peer]") && peerAsAddress.description.contains("endpoint = \"198.18.0.2:51820\""), "\(peerAsAddress)")
    }

    @Test func namesTheLineOfASyntaxError() throws {
        let error = try #require(problem("bridge = \"br0\"\ntap = = 1\n"))
        #expect(error.description.contains("line 2"), "\(error)")
    }

    /// Found by fuzzing (fuzz-config): toml++ asserted on each of these and aborted the
    /// process. Refused with the header's line instead.
    @Test(arguments: ["[+", "[[{a]]", "[\n", "bridge = \"br0\"\n  [ +peer]\n", "\u{FEFF}[+", "[\u{E4}]", "[\r\n"])
    func aTableHeaderWithoutANameIsRefused(_ text: String) throws {
        let error = try #require(problem(text))
        #expect(error.description.contains("table header"), "\(error)")
    }

    @Test func headersThatNameATableStillParse() throws {
        #expect(try parse(Self.minimal("no such key", nil).replacingOccurrences(of: "[peer]", with: "[ \"peer\" ]")).peers
            == (try parse(Self.minimal)).peers)
        // Cut off by the end of the text: toml++'s own error, no assertion.
        #expect(problem("[") != nil && problem("[[ ") != nil)
    }

    @Test func anIPv6ListenerOnTheUnspecifiedAddressTakesAnIPv4Peer() throws {
        let configuration = try parse(Self.minimal.replacingOccurrences(of: "198.18.0.1:51820", with: "[::]:51820"))
        #expect(configuration.listen.isUnspecified)
    }

    @Test func theTAPAddressIsStableAndDiffersBetweenSites() throws {
        // Two sites with the same devices and listen address (on their own hosts): the site
        // key tells their TAPs apart; a change of peers does not move it.
        let configuration = try parse(Self.minimal)
        let keyA = PrivateKey.random().publicKey, keyB = PrivateKey.random().publicKey
        var morePeers = configuration
        morePeers.peers.append(PeerConfiguration(name: "site-c", publicKey: PrivateKey.random().publicKey, endpoint: nil))
        #expect(configuration.tapAddress(siteKey: keyA) == (try parse(Self.minimal)).tapAddress(siteKey: keyA))
        #expect(configuration.tapAddress(siteKey: keyA) == morePeers.tapAddress(siteKey: keyA))
        #expect(configuration.tapAddress(siteKey: keyA) != configuration.tapAddress(siteKey: keyB))
        #expect(!configuration.tapAddress(siteKey: keyA).isGroup)
    }
}

@Suite struct PreSharedKeyTests {
    @Test func roundTripsThroughBase64() throws {
        let key = PreSharedKey.random()
        #expect(try PreSharedKey(base64: key.base64 + "\n") == key)
    }

    @Test func refusesAKeyOfTheWrongLength() {
        #expect(throws: PreSharedKey.ParseError.wrongLength(16)) {
            try PreSharedKey(base64: "AAAAAAAAAAAAAAAAAAAAAA==")
        }
    }

    @Test func refusesText() {
        #expect(throws: PreSharedKey.ParseError.notBase64) { try PreSharedKey(base64: "not a key!") }
    }
}

@Suite struct WireFormatTests {
    func type(_ bytes: [UInt8]) -> WireFormat.MessageType? {
        bytes.withUnsafeBytes { WireFormat.messageType(of: $0) }
    }

    @Test func refusesMalformedHeaders() {
        let v = WireFormat.version
        #expect(type([]) == nil)
        #expect(type([v, 3, 0]) == nil, "shorter than the common header")
        #expect(type([1, 3, 0, 0] + Array(repeating: 0, count: 64)) == nil, "version 1, the pre-shared-key protocol")
        #expect(type([2, 3, 0, 0] + Array(repeating: 0, count: 64)) == nil, "version 2, one counter space for all lanes")
        #expect(type([v, 9, 0, 0] + Array(repeating: 0, count: 64)) == nil, "unknown type")
        #expect(type([v, 3, 0, 1] + Array(repeating: 0, count: 64)) == nil, "reserved bits set")
        #expect(type([v, 3, 0, 0] + Array(repeating: 0, count: 20)) == nil, "data shorter than header and tag")
        #expect(type([v, 1, 0, 0] + Array(repeating: 0, count: WireFormat.initiationLength - 3)) == nil, "initiation of the wrong size")
        #expect(type([v, 6, 0, 0] + Array(repeating: 0, count: WireFormat.CookieReply.length - 3)) == nil, "cookie reply of the wrong size")
    }

    @Test func acceptsWellFormedHeaders() {
        let v = WireFormat.version
        #expect(v == 4)
        #expect(type([v, 3, 0, 0] + Array(repeating: 0, count: WireFormat.dataOverhead - 4)) == .data)
        #expect(type([v, 1, 0, 0] + Array(repeating: 0, count: WireFormat.initiationLength - 4)) == .handshakeInitiation)
        #expect(type([v, 6, 0, 0] + Array(repeating: 0, count: WireFormat.CookieReply.length - 4)) == .cookieReply)
    }

    @Test func overheadIsThirtySixBytes() {
        #expect(WireFormat.dataOverhead == 36)
    }
}
