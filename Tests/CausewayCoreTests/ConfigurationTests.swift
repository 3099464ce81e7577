import Testing
@testable import CausewayCore

@Suite struct ConfigurationTests {
    static let minimal = """
        bridge = "br0"
        lan-interface = "eth1"
        tap = "cw0"
        listen = "198.18.0.1:51820"
        peer = "198.18.0.2:51820"
        key-file = "site.key"
        """

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

    @Test func aMinimalConfigurationTakesTheDefaults() throws {
        let configuration = try parse(Self.minimal)
        #expect(configuration.bridge == "br0")
        #expect(configuration.keyFile == "/etc/causeway/site.key", "a relative key path is taken from the config's folder")
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
            """)
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
        #expect(configuration.peer.isIPv6)
        #expect(configuration.peer.port == 4789)
        #expect(configuration.peer.description == "[fd00:18:0:0:0:0:0:2]:4789")
    }

    @Test(arguments: [
        ("colour = \"blue\"", "key 'colour': unknown key"),
        ("mac-aging-time = 0", "key 'mac-aging-time': 0 is outside 1...86400"),
        ("mac-table-size = \"big\"", "key 'mac-table-size': expected an integer"),
        ("network-id = 16777216", "key 'network-id': 16777216 is outside"),
        ("log-level = \"loud\"", "key 'log-level': 'loud' is not one of"),
        ("migrate-addresses = \"yes\"", "key 'migrate-addresses': expected true or false"),
        ("control-socket = \"\"", "key 'control-socket': is empty"),
        ("control-socket = \"/\(String(repeating: "x", count: 110))\"", "key 'control-socket': '/xxx"),
    ])
    func refusesBadOptionalValues(line: String, message: String) throws {
        let error = try #require(problem(Self.minimal + "\n" + line))
        #expect(error.description.hasPrefix("/etc/causeway/site.toml: "))
        #expect(error.description.contains(message), "\(error)")
    }

    @Test(arguments: [
        ("peer", "198.18.0.300:51820", "'198.18.0.300:51820' is not ADDRESS:PORT"),
        ("peer", "198.18.0.2", "is not ADDRESS:PORT"),
        ("listen", "198.18.0.1:70000", "is not ADDRESS:PORT"),
        ("listen", "198.18.0.1:0", "is not ADDRESS:PORT"),
        ("peer", "[fd00::1::2]:51820", "is not ADDRESS:PORT"),
        ("tap", "a-name-longer-than-15", "longer than 15 bytes"),
        ("tap", "cw/0", "not a valid interface name"),
        ("tap", "br0", "'br0' is also the bridge"),
        ("peer", "0.0.0.0:51820", "unspecified address"),
        ("peer", "[fd00::2]:51820", "not of the listen address's family"),
    ])
    func refusesBadRequiredValues(key: String, value: String, message: String) throws {
        let text = Self.minimal.split(separator: "\n").map { line in
            line.hasPrefix("\(key) =") ? "\(key) = \"\(value)\"" : String(line)
        }.joined(separator: "\n")
        let error = try #require(problem(text))
        #expect(error.key == key)
        #expect(error.description.contains(message), "\(error)")
    }

    @Test(arguments: Configuration.Key.allCases.filter { [.bridge, .lanInterface, .tap, .listen, .peer, .keyFile].contains($0) })
    func refusesAMissingRequiredKey(_ key: Configuration.Key) throws {
        let text = Self.minimal.split(separator: "\n").filter { !$0.hasPrefix("\(key.rawValue) =") }.joined(separator: "\n")
        let error = try #require(problem(text))
        #expect(error.description == "/etc/causeway/site.toml: key '\(key.rawValue)': missing; it is required")
    }

    @Test func namesTheLineOfASyntaxError() throws {
        let error = try #require(problem("bridge = \"br0\"\ntap = = 1\n"))
        #expect(error.description.contains("line 2"), "\(error)")
    }

    @Test func anIPv6ListenerOnTheUnspecifiedAddressTakesAnIPv4Peer() throws {
        let configuration = try parse(Self.minimal.replacingOccurrences(of: "198.18.0.1:51820", with: "[::]:51820"))
        #expect(configuration.listen.isUnspecified)
    }

    @Test func theTAPAddressIsStableAndDiffersBetweenSites() throws {
        let siteA = try parse(Self.minimal)
        let siteB = try parse(Self.minimal
            .replacingOccurrences(of: "listen = \"198.18.0.1:51820\"", with: "listen = \"198.18.0.2:51820\"")
            .replacingOccurrences(of: "peer = \"198.18.0.2:51820\"", with: "peer = \"198.18.0.1:51820\""))
        #expect(siteA.tapAddress == (try parse(Self.minimal)).tapAddress)
        #expect(siteA.tapAddress != siteB.tapAddress)
        #expect(!siteA.tapAddress.isGroup)
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
        #expect(type([]) == nil)
        #expect(type([1, 3, 0]) == nil, "shorter than the common header")
        #expect(type([2, 3, 0, 0] + Array(repeating: 0, count: 64)) == nil, "unknown version")
        #expect(type([1, 9, 0, 0] + Array(repeating: 0, count: 64)) == nil, "unknown type")
        #expect(type([1, 3, 0, 1] + Array(repeating: 0, count: 64)) == nil, "reserved bits set")
        #expect(type([1, 3, 0, 0] + Array(repeating: 0, count: 20)) == nil, "data shorter than header and tag")
        #expect(type([1, 1, 0, 0] + Array(repeating: 0, count: WireFormat.initiationLength - 3)) == nil, "initiation of the wrong size")
    }

    @Test func acceptsWellFormedHeaders() {
        #expect(type([1, 3, 0, 0] + Array(repeating: 0, count: WireFormat.dataOverhead - 4)) == .data)
        #expect(type([1, 1, 0, 0] + Array(repeating: 0, count: WireFormat.initiationLength - 4)) == .handshakeInitiation)
    }

    @Test func overheadIsThirtySixBytes() {
        #expect(WireFormat.dataOverhead == 36)
        #expect(WireFormat.initiationLength == 68)
        #expect(WireFormat.responseLength == 60)
    }
}
