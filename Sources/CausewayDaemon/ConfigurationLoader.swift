import CausewayCore
import CausewayLinux

/// Reads a configuration file and the key files it names from disk.
public enum ConfigurationLoader {
    /// The parsed configuration; every failure names the file and, where one is to blame, the key.
    public static func load(path: String) throws(ConfigurationError) -> Configuration {
        let bytes: [UInt8]
        do {
            bytes = try ProtectedFile.read(path, as: .configuration)
        } catch {
            throw ConfigurationError(file: path, key: nil, problem: error.description)
        }
        return try Configuration(toml: String(decoding: bytes, as: UTF8.self), file: path)
    }

    /// This site's identity towards each peer, in the configuration's order: its private key,
    /// the peer's public key, the optional pre-shared key, the ciphers it accepts. Errors name
    /// the file, the key and the fix, never key material.
    public static func loadIdentities(for configuration: Configuration, configPath: String) throws(ConfigurationError) -> [SiteIdentity] {
        let privateKey = try readKey(configuration.privateKeyFile, key: Configuration.Key.privateKeyFile.rawValue, configPath: configPath) { text throws(KeyParseError) in
            try PrivateKey(base64: text)
        }
        let psk = try configuration.presharedKeyFile.map { file throws(ConfigurationError) in
            try readKey(file, key: Configuration.Key.presharedKeyFile.rawValue, configPath: configPath) { text throws(KeyParseError) in
                try PreSharedKey(base64: text)
            }
        } ?? .none
        let ciphers = CipherOffer(setting: configuration.cipher)
        var identities: [SiteIdentity] = []
        for (index, peer) in configuration.peers.enumerated() {
            do {
                identities.append(try SiteIdentity(local: privateKey, peer: peer.publicKey, psk: psk, ciphers: ciphers))
            } catch {
                let key = configuration.peers.count == 1 ? "peer.public-key" : "peer[\(index + 1)].public-key"
                throw ConfigurationError(file: configPath, key: key, problem: "'\(peer.publicKey.base64)' (peer '\(peer.name)') \(error)")
            }
        }
        return identities
    }

    private static func readKey<Key>(
        _ path: String, key: String, configPath: String, parse: (String) throws(KeyParseError) -> Key
    ) throws(ConfigurationError) -> Key {
        var bytes: [UInt8]
        do {
            bytes = try ProtectedFile.read(path, as: .secret)
        } catch {
            throw ConfigurationError(file: configPath, key: key, problem: error.description)
        }
        defer { bytes.overwriteWithZeros() }
        do {
            return try parse(String(decoding: bytes, as: UTF8.self))
        } catch {
            throw ConfigurationError(file: configPath, key: key, problem: "'\(path)' \(error)")
        }
    }

    /// Writes `text` and a newline to the new file `path`, mode 0600.
    public static func writeNewKey(_ text: String, to path: String) throws {
        try ProtectedFile.createSecret(path, text: text + "\n")
    }
}
