import Glibc
import SystemPackage

/// Reads a configuration or key file the way a daemon that holds keys must: opened without
/// following a symbolic link, then checked with fstat on the open descriptor (so the file
/// checked is the file read): a regular file, owned by root or by the user the daemon runs
/// as, not writable by others, and for a secret not readable by group or others either.
public enum ProtectedFile {
    public enum Kind: Sendable {
        /// A configuration: anyone may read it, only its owner (and group) write it.
        case configuration
        /// A key: only its owner reads it, as ssh demands of a private key.
        case secret
    }

    /// What is wrong with the file, in words that name the fix; never its contents.
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    /// The file's bytes. The caller owns them and overwrites a secret's once parsed.
    /// O_NONBLOCK: a FIFO put where a key belongs must not hang the daemon before fstat
    /// refuses it; on a regular file the flag changes nothing.
    public static func read(_ path: String, as kind: Kind) throws(Problem) -> [UInt8] {
        let descriptor = retryingInterrupts { open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK) }
        guard descriptor >= 0 else {
            let error = Errno(rawValue: errno)
            if error == .tooManySymbolicLinkLevels {
                throw Problem(description: "'\(path)' is a symbolic link, which is not followed for a file that holds keys or settings; name the file itself")
            }
            throw Problem(description: "'\(path)': \(error)")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw Problem(description: "'\(path)': fstat: \(Errno(rawValue: errno))")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw Problem(description: "'\(path)' is not a regular file")
        }
        let owner = status.st_uid
        guard owner == 0 || owner == geteuid() else {
            throw Problem(description: "'\(path)' is owned by uid \(owner), neither root nor this process's user (uid \(geteuid())); run chown root '\(path)'")
        }
        let permissions = status.st_mode & 0o777
        switch kind {
        case .secret where permissions & 0o077 != 0:
            throw Problem(description: "'\(path)' has mode \(String(permissions, radix: 8)), readable by group or others; run chmod 600 '\(path)'")
        case .configuration where permissions & 0o002 != 0:
            throw Problem(description: "'\(path)' has mode \(String(permissions, radix: 8)), writable by others; run chmod o-w '\(path)'")
        default:
            break
        }
        let fileDescriptor = FileDescriptor(rawValue: descriptor)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        defer { chunk.overwriteWithZeros() }
        while true {
            let count: Int
            do {
                count = try chunk.withUnsafeMutableBytes { try fileDescriptor.read(into: $0, retryOnInterrupt: true) }
            } catch {
                throw Problem(description: "'\(path)': cannot read: \(error)")
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
            if bytes.count > 1 << 20 { throw Problem(description: "'\(path)' is larger than 1 MiB") }
        }
        return bytes
    }

    /// Creates `path` with mode 0600 and writes `text`, refusing to overwrite a file or to
    /// follow a symbolic link.
    public static func createSecret(_ path: String, text: String) throws {
        let descriptor = try FileDescriptor.open(
            FilePath(path), .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec, .noFollow], permissions: [.ownerReadWrite]
        )
        try descriptor.closeAfter {
            _ = try descriptor.writeAll(Array(text.utf8))
        }
    }
}
