import TOMLKit

extension Configuration {
    /// Every key a configuration may hold; anything else is refused, so a typo never passes
    /// silently as a default.
    public enum Key: String, CaseIterable, Sendable {
        case bridge
        case lanInterface = "lan-interface"
        case tap
        case listen
        case peer
        case keyFile = "key-file"
        case networkID = "network-id"
        case macAgingTime = "mac-aging-time"
        case macTableSize = "mac-table-size"
        case keepaliveInterval = "keepalive-interval"
        case logLevel = "log-level"
        case controlSocket = "control-socket"
        case migrateAddresses = "migrate-addresses"
        case icmpTooBig = "icmp-too-big"
    }

    /// Parses and validates TOML text; `file` names the source in every error.
    public init(toml text: String, file: String) throws(ConfigurationError) {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(file: file, key: nil, problem: "line \(error.source.begin.line): \(error.description)")
        } catch {
            throw ConfigurationError(file: file, key: nil, problem: "\(error)")
        }
        let reader = KeyReader(table: table, file: file)
        try reader.refuseUnknownKeys()

        bridge = try reader.interfaceName(.bridge)
        lanInterface = try reader.interfaceName(.lanInterface)
        tap = try reader.interfaceName(.tap)
        listen = try reader.endpoint(.listen)
        peer = try reader.endpoint(.peer)
        keyFile = Self.resolve(try reader.string(.keyFile), relativeTo: file)
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
        if listen.isIPv6 != peer.isIPv6, !(listen.isIPv6 && listen.isUnspecified) {
            throw ConfigurationError(file: file, key: Key.peer.rawValue, problem: "'\(peer)' is not of the listen address's family (\(listen)); listen on [::] to reach both")
        }
        if peer.isUnspecified {
            throw ConfigurationError(file: file, key: Key.peer.rawValue, problem: "'\(peer)' is the unspecified address; name the peer gateway's address")
        }
    }

    /// A relative key path is taken from the folder of the configuration file.
    static func resolve(_ path: String, relativeTo file: String) -> String {
        guard !path.hasPrefix("/"), let slash = file.lastIndex(of: "/") else { return path }
        return String(file[...slash]) + path
    }
}

/// Reads typed values out of the TOML table, each failure naming the key.
private struct KeyReader {
    let table: TOMLTable
    let file: String

    func error(_ key: Configuration.Key, _ problem: String) -> ConfigurationError {
        ConfigurationError(file: file, key: key.rawValue, problem: problem)
    }

    func refuseUnknownKeys() throws(ConfigurationError) {
        let known = Set(Configuration.Key.allCases.map(\.rawValue))
        if let unknown = table.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConfigurationError(file: file, key: unknown, problem: "unknown key; known keys are \(known.sorted().joined(separator: ", "))")
        }
    }

    func optionalString(_ key: Configuration.Key) throws(ConfigurationError) -> String? {
        guard let value = table[key.rawValue] else { return nil }
        guard let text = value.string else { throw error(key, "expected a string, found \(value.type)") }
        return text
    }

    func optionalBool(_ key: Configuration.Key) throws(ConfigurationError) -> Bool? {
        guard let value = table[key.rawValue] else { return nil }
        guard let flag = value.bool else { throw error(key, "expected true or false, found \(value.type)") }
        return flag
    }

    func string(_ key: Configuration.Key) throws(ConfigurationError) -> String {
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

    /// A Linux interface name: 1 to 15 bytes, no '/', ':' or white space.
    func interfaceName(_ key: Configuration.Key) throws(ConfigurationError) -> String {
        let name = try string(key)
        guard name.utf8.count <= 15 else { throw error(key, "'\(name)' is longer than 15 bytes, the Linux limit for interface names") }
        guard name != ".", name != "..", !name.contains(where: { $0 == "/" || $0 == ":" || $0.isWhitespace }) else {
            throw error(key, "'\(name)' is not a valid interface name")
        }
        return name
    }

    func endpoint(_ key: Configuration.Key) throws(ConfigurationError) -> SocketEndpoint {
        let text = try string(key)
        guard let endpoint = SocketEndpoint(text) else {
            throw error(key, "'\(text)' is not ADDRESS:PORT (198.18.0.1:51820 or [fd00::1]:51820, port 1-65535)")
        }
        return endpoint
    }
}
