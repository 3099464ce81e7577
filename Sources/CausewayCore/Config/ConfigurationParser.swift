import TOMLKit

extension Configuration {
    /// Every key a configuration may hold; anything else is refused, so a typo never passes
    /// silently as a default.
    public enum Key: String, CaseIterable, Sendable {
        case bridge
        case lanInterface = "lan-interface"
        case tap
        case listen
        /// `[[peer]]` tables, one per peer gateway (or one `[peer]` table).
        case peer
        case hub
        case privateKeyFile = "private-key-file"
        case presharedKeyFile = "preshared-key-file"
        case networkID = "network-id"
        case macAgingTime = "mac-aging-time"
        case macTableSize = "mac-table-size"
        case keepaliveInterval = "keepalive-interval"
        case logLevel = "log-level"
        case controlSocket = "control-socket"
        case migrateAddresses = "migrate-addresses"
        case icmpTooBig = "icmp-too-big"
        case floodRate = "flood-rate"
        case floodBurst = "flood-burst"
        case macHoldTime = "mac-hold-time"
        case dataPlaneThreads = "data-plane-threads"
        case cipher
    }

    /// The keys of a `[[peer]]` table.
    public enum PeerKey: String, CaseIterable, Sendable {
        case name
        case publicKey = "public-key"
        case endpoint
        case hub
    }

    /// The name a lone `[peer]` table's peer gets (the shape of a two-site configuration).
    public static let solePeerName = "peer"

    /// Where docs/operations.md explains the move from a pre-shared key alone to site keys.
    static let migrationHint = "see \"Moving to site keys\" in docs/operations.md"

    /// Parses and validates TOML text; `file` names the source in every error.
    public init(toml text: String, file: String) throws(ConfigurationError) {
        try Self.refuseUnnamedTableHeaders(text, file: file)
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(file: file, key: nil, problem: "line \(error.source.begin.line): \(error.description)")
        } catch {
            throw ConfigurationError(file: file, key: nil, problem: "\(error)")
        }
        let reader = KeyReader(table: table, file: file)
        try Self.refuseVersion1Shape(table, file: file)
        try reader.refuseUnknownKeys(Key.allCases.map(\.rawValue))

        bridge = try reader.interfaceName(Key.bridge.rawValue)
        lanInterface = try reader.interfaceName(Key.lanInterface.rawValue)
        tap = try reader.interfaceName(Key.tap.rawValue)
        listen = try reader.endpoint(Key.listen.rawValue)
        peers = try Self.readPeers(table[Key.peer.rawValue], reader: reader)
        hub = try reader.optionalBool(.hub) ?? false
        privateKeyFile = Self.resolve(try reader.string(Key.privateKeyFile.rawValue), relativeTo: file)
        presharedKeyFile = try reader.optionalString(.presharedKeyFile).map { path throws(ConfigurationError) in
            guard !path.isEmpty else { throw reader.error(.presharedKeyFile, "is empty") }
            return Self.resolve(path, relativeTo: file)
        }
        networkID = try reader.optionalInteger(.networkID, in: 0...Int(NetworkID.maximum)).map { NetworkID(UInt32($0))! }
            ?? Self.defaultNetworkID
        macAgingTime = try reader.optionalInteger(.macAgingTime, in: 1...86_400).map { .seconds($0) } ?? Self.defaultMACAgingTime
        macTableSize = try reader.optionalInteger(.macTableSize, in: 16...1_048_576) ?? Self.defaultMACTableSize
        keepaliveInterval = try reader.optionalInteger(.keepaliveInterval, in: 1...3600).map { .seconds($0) }
            ?? Self.defaultKeepaliveInterval
        logLevel = try reader.optionalString(.logLevel).map { text throws(ConfigurationError) in
            guard let level = LogLevel(rawValue: text) else {
                throw reader.error(.logLevel, "'\(text)' is not one of \(LogLevel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return level
        } ?? .info
        migrateAddresses = try reader.optionalBool(.migrateAddresses) ?? false
        icmpTooBig = try reader.optionalBool(.icmpTooBig) ?? false
        floodRate = try reader.optionalInteger(.floodRate, in: 0...10_000_000) ?? Self.defaultFloodRate
        floodBurst = try reader.optionalInteger(.floodBurst, in: 1...10_000_000) ?? max(Self.defaultFloodBurst, floodRate)
        let holdTime = try reader.optionalInteger(.macHoldTime, in: 0...3600).map { Duration.seconds($0) }
        if let holdTime, holdTime > macAgingTime {
            throw reader.error(.macHoldTime, "\(holdTime.components.seconds) s is longer than mac-aging-time (\(macAgingTime.components.seconds) s): an address is forgotten before its hold time ends; make it at most mac-aging-time")
        }
        // Unset, it is the default or the aging time, whichever is shorter.
        macHoldTime = holdTime ?? min(Self.defaultMACHoldTime, macAgingTime)
        dataPlaneThreads = try reader.threadCount(.dataPlaneThreads)
        cipher = try reader.optionalString(.cipher).flatMap { text throws(ConfigurationError) in
            if text == "auto" { return nil }
            guard let suite = CipherSuite(rawValue: text) else {
                throw reader.error(.cipher, "'\(text)' is not one of auto, \(CipherSuite.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return suite
        }
        controlSocket = try reader.optionalString(.controlSocket).map { path throws(ConfigurationError) in
            guard !path.isEmpty else { throw reader.error(.controlSocket, "is empty") }
            return Self.resolve(path, relativeTo: file)
        } ?? Self.defaultControlSocket(forConfigurationFile: file)
        guard controlSocket.utf8.count <= Self.maximumSocketPathLength else {
            throw reader.error(.controlSocket, "'\(controlSocket)' is longer than \(Self.maximumSocketPathLength) bytes, the limit for a Unix socket path")
        }

        try validateCombination(file: file)
    }

    private func validateCombination(file: String) throws(ConfigurationError) {
        let names = [(Key.bridge, bridge), (.lanInterface, lanInterface), (.tap, tap)]
        for (index, (key, name)) in names.enumerated() {
            if let clash = names[..<index].first(where: { $0.1 == name }) {
                throw ConfigurationError(file: file, key: key.rawValue, problem: "'\(name)' is also the \(clash.0.rawValue); the bridge, the LAN interface and the TAP are three devices")
            }
        }
        try PeerRules.check(peers, hub: hub, listen: listen, file: file)
    }

    /// A configuration written for version 1 (one shared `key-file`, `peer` an address) gets
    /// an error that says what to change, not just "unknown key".
    private static func refuseVersion1Shape(_ table: TOMLTable, file: String) throws(ConfigurationError) {
        if table["key-file"] != nil {
            throw ConfigurationError(file: file, key: "key-file", problem:
                "a shared key alone no longer identifies a site: give this site its own key (causewayd genkey), name it in 'private-key-file', "
                + "and keep the old key, if you like, as 'preshared-key-file'; \(migrationHint)")
        }
        if let peer = table[Key.peer.rawValue], peer.string != nil {
            throw ConfigurationError(file: file, key: Key.peer.rawValue, problem:
                "is now a table: write [peer] with endpoint = \"\(peer.string!)\" and public-key = the peer's public key (causewayd pubkey on the peer); \(migrationHint)")
        }
    }

    /// The `peer` key: an array of tables (`[[peer]]`), or one table (`[peer]`) whose peer is
    /// named "peer".
    private static func readPeers(_ value: TOMLValueConvertible?, reader: KeyReader) throws(ConfigurationError) -> [PeerConfiguration] {
        let expected = "[[peer]] tables, each with name, public-key and (unless the peer only calls in) endpoint"
        guard let value else { throw reader.error(.peer, "missing; it is required: \(expected)") }
        if let single = value.table {
            return [try readPeer(single, defaultName: solePeerName, prefix: "peer.", file: reader.file)]
        }
        guard let array = value.array else { throw reader.error(.peer, "expected \(expected), found \(value.type)") }
        guard !array.isEmpty else { throw reader.error(.peer, "is empty; list at least one peer: \(expected)") }
        guard array.count <= maximumPeers else { throw reader.error(.peer, "\(array.count) peers; at most \(maximumPeers) are supported") }
        var peers: [PeerConfiguration] = []
        for (index, element) in array.enumerated() {
            // One peer's keys read as in a [peer] table; several are told apart by position.
            let prefix = array.count == 1 ? "peer." : "peer[\(index + 1)]."
            guard let peerTable = element.table else {
                throw ConfigurationError(file: reader.file, key: String(prefix.dropLast()), problem: "expected a table, found \(element.type)")
            }
            peers.append(try readPeer(peerTable, defaultName: nil, prefix: prefix, file: reader.file))
        }
        return peers
    }

    private static func readPeer(_ table: TOMLTable, defaultName: String?, prefix: String, file: String) throws(ConfigurationError) -> PeerConfiguration {
        let reader = KeyReader(table: table, file: file, prefix: prefix)
        try reader.refuseUnknownKeys(PeerKey.allCases.map(\.rawValue))
        let name = try reader.optionalString(PeerKey.name.rawValue) ?? defaultName
        guard let name else { throw reader.error(PeerKey.name.rawValue, "missing; it is required: the name logs and causewayctl show for this peer") }
        guard PeerRules.isValidName(name) else {
            throw reader.error(PeerKey.name.rawValue, "'\(name)' is not 1 to \(PeerRules.maximumNameLength) letters, digits, '.', '_' or '-'")
        }
        let endpoint = try reader.optionalString(PeerKey.endpoint.rawValue) == nil ? nil : try reader.endpoint(PeerKey.endpoint.rawValue)
        let publicKey = try reader.publicKey(PeerKey.publicKey.rawValue)
        let isHub = try reader.optionalBool(PeerKey.hub.rawValue) ?? false
        return PeerConfiguration(name: name, publicKey: publicKey, endpoint: endpoint, isHub: isHub)
    }

    /// A relative key path is taken from the folder of the configuration file.
    static func resolve(_ path: String, relativeTo file: String) -> String {
        guard !path.hasPrefix("/"), let slash = file.lastIndex(of: "/") else { return path }
        return String(file[...slash]) + path
    }
}

/// Reads typed values out of the TOML table, each failure naming the key.
struct KeyReader {
    let table: TOMLTable
    let file: String
    /// Put before each key in errors: "peer." for the keys of the [peer] table.
    var prefix = ""

    func error(_ key: Configuration.Key, _ problem: String) -> ConfigurationError {
        error(key.rawValue, problem)
    }

    func error(_ key: String, _ problem: String) -> ConfigurationError {
        ConfigurationError(file: file, key: prefix + key, problem: problem)
    }

    func refuseUnknownKeys(_ knownKeys: [String]) throws(ConfigurationError) {
        let known = Set(knownKeys)
        if let unknown = table.keys.sorted().first(where: { !known.contains($0) }) {
            let hint = NameSuggestion.nearest(to: unknown, among: known.sorted()).map { "did you mean '\(prefix)\($0)'? " } ?? ""
            throw error(unknown, "unknown key; \(hint)known keys are \(known.sorted().map { prefix + $0 }.joined(separator: ", "))")
        }
    }

    func optionalString(_ key: Configuration.Key) throws(ConfigurationError) -> String? {
        try optionalString(key.rawValue)
    }

    func optionalString(_ key: String) throws(ConfigurationError) -> String? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else { throw error(key, "expected a string, found \(value.type)") }
        return text
    }

    func optionalBool(_ key: Configuration.Key) throws(ConfigurationError) -> Bool? {
        try optionalBool(key.rawValue)
    }

    func optionalBool(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let value = table[key] else { return nil }
        guard let flag = value.bool else { throw error(key, "expected true or false, found \(value.type)") }
        return flag
    }

    func string(_ key: String) throws(ConfigurationError) -> String {
        guard let text = try optionalString(key) else { throw error(key, "missing; it is required") }
        guard !text.isEmpty else { throw error(key, "is empty") }
        return text
    }

    func optionalInteger(_ key: Configuration.Key, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let value = table[key.rawValue] else { return nil }
        guard let number = value.int else { throw error(key, "expected an integer, found \(value.type)") }
        guard range.contains(number) else { throw error(key, "\(number) is outside \(range.lowerBound)...\(range.upperBound)") }
        return number
    }

    /// A number of threads from 1 to `Lane.maximumCount`, or "auto" (nil: the machine's cores
    /// decide, Lane.suggestedCount), as it is when the key is not there.
    func threadCount(_ key: Configuration.Key) throws(ConfigurationError) -> Int? {
        guard let value = table[key.rawValue] else { return nil }
        let range = 1...Lane.maximumCount
        if value.string == "auto" { return nil }
        guard let number = value.int else {
            throw error(key, "expected an integer from \(range.lowerBound) to \(range.upperBound) or \"auto\", found \(value.string.map { "'\($0)'" } ?? "\(value.type)")")
        }
        guard range.contains(number) else { throw error(key, "\(number) is outside \(range.lowerBound)...\(range.upperBound)") }
        return number
    }

    /// A Linux interface name: 1 to 15 bytes, no '/', ':' or white space.
    func interfaceName(_ key: String) throws(ConfigurationError) -> String {
        let name = try string(key)
        guard name.utf8.count <= 15 else { throw error(key, "'\(name)' is longer than 15 bytes, the Linux limit for interface names") }
        guard name != ".", name != "..", !name.contains(where: { $0 == "/" || $0 == ":" || $0.isWhitespace }) else {
            throw error(key, "'\(name)' is not a valid interface name")
        }
        return name
    }

    func endpoint(_ key: String) throws(ConfigurationError) -> SocketEndpoint {
        let text = try string(key)
        guard let endpoint = SocketEndpoint(text) else {
            throw error(key, "'\(text)' is not ADDRESS:PORT (198.18.0.1:51820 or [fd00::1]:51820, port 1-65535)")
        }
        return endpoint
    }

    func publicKey(_ key: String) throws(ConfigurationError) -> PublicKey {
        let text = try string(key)
        do {
            return try PublicKey(base64: text)
        } catch {
            throw self.error(key, "'\(text)' \(error); it is what causewayd pubkey prints on the peer")
        }
    }
}
