import CausewayCore
import Glibc
import SystemPackage

/// Reads a configuration file and its key file from disk.
public enum ConfigurationLoader {
    /// The parsed configuration; every failure names the file and, where one is to blame, the key.
    public static func load(path: String) throws(ConfigurationError) -> Configuration {
        let text: String
        do {
            text = try readText(path)
        } catch {
            throw ConfigurationError(file: path, key: nil, problem: "cannot read: \(error)")
        }
        return try Configuration(toml: text, file: path)
    }

    /// The pre-shared key the configuration names. A key file that group or others may read
    /// is refused, as ssh refuses such a private key.
    public static func loadKey(for configuration: Configuration, configPath: String) throws(ConfigurationError) -> PreSharedKey {
        let keyPath = configuration.keyFile
        func failure(_ problem: String) -> ConfigurationError {
            ConfigurationError(file: configPath, key: Configuration.Key.keyFile.rawValue, problem: problem)
        }
        var status = stat()
        guard stat(keyPath, &status) == 0 else {
            throw failure("'\(keyPath)': \(Errno(rawValue: errno))")
        }
        let permissions = status.st_mode & 0o777
        guard permissions & 0o077 == 0 else {
            throw failure("'\(keyPath)' has mode \(String(permissions, radix: 8)), readable by group or others; run chmod 600 '\(keyPath)'")
        }
        do {
            return try PreSharedKey(base64: try readText(keyPath))
        } catch let error as PreSharedKey.ParseError {
            throw failure("'\(keyPath)' \(error)")
        } catch {
            throw failure("'\(keyPath)': cannot read: \(error)")
        }
    }

    static func readText(_ path: String) throws -> String {
        let descriptor = try FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec)
        return try descriptor.closeAfter {
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = try chunk.withUnsafeMutableBytes { try descriptor.read(into: $0) }
                if count == 0 { break }
                bytes += chunk[0..<count]
                if bytes.count > 1 << 20 { throw Errno.fileTooLarge }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Writes a fresh key to `path` with mode 0600, refusing to overwrite an existing file.
    public static func writeNewKey(to path: String) throws {
        let key = PreSharedKey.random()
        let descriptor = try FileDescriptor.open(
            FilePath(path), .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec], permissions: [.ownerReadWrite]
        )
        try descriptor.closeAfter {
            _ = try descriptor.writeAll(Array((key.base64 + "\n").utf8))
        }
    }
}
