import CLinuxShim
import Glibc

/// The daemon's control socket: a listening Unix stream socket at a path, mode 0660, owned
/// by root and by the operators' group when it exists. A stale socket file left by a daemon
/// that crashed is replaced; a socket some process still serves is never taken over.
public final class UnixListener: @unchecked Sendable {
    public let path: String
    public let descriptor: Int32
    /// The socket file's identity, so that `remove()` never deletes a successor's socket.
    private let device: UInt
    private let inode: UInt

    public static let mode: mode_t = 0o660

    public init(path: String, groupName: String) throws(ControlSocketError) {
        guard let address = UnixSocketAddress(path: path) else { throw .pathTooLong(path: path) }
        self.path = path
        try Self.prepareDirectory(of: path)
        try Self.clearStaleSocket(at: path, address: address)

        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(SystemCallError("socket", "control socket \(path)")) }
        do throws(ControlSocketError) {
            // Owner-only from the moment the file exists; widened to the group below.
            let previousMask = umask(0o177)
            let bound = address.withSockaddr { bind(fd, $0, $1) }
            let bindErrno = errno
            umask(previousMask)
            guard bound == 0 else { throw Self.error("bind", path, bindErrno) }
            let group = Self.groupID(named: groupName) ?? getegid()
            guard chown(path, geteuid(), group) == 0 else { throw Self.error("chown", path, errno) }
            guard chmod(path, Self.mode) == 0 else { throw Self.error("chmod", path, errno) }
            // Room for a burst of clients while all serving slots are taken.
            guard listen(fd, 64) == 0 else { throw Self.error("listen", path, errno) }
            var status = stat()
            guard lstat(path, &status) == 0 else { throw Self.error("lstat", path, errno) }
            device = UInt(status.st_dev)
            inode = UInt(status.st_ino)
        } catch {
            close(fd)
            throw error
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// The next waiting client, or nil when none waits.
    public func accept() -> UnixStream? {
        let fd = retryingInterrupts { cw_accept_nonblocking(descriptor) }
        return fd >= 0 ? UnixStream(descriptor: fd) : nil
    }

    /// Removes the socket file, unless another daemon has put its own there since.
    public func remove() {
        var status = stat()
        if lstat(path, &status) == 0, UInt(status.st_dev) == device, UInt(status.st_ino) == inode {
            unlink(path)
        }
    }

    /// Creates the socket's folder (one level, as /run/causeway under /run) when missing.
    private static func prepareDirectory(of path: String) throws(ControlSocketError) {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
        let directory = String(path[..<slash])
        if mkdir(directory, 0o755) != 0, errno != EEXIST {
            throw error("mkdir", directory, errno)
        }
    }

    private static func clearStaleSocket(at path: String, address: UnixSocketAddress) throws(ControlSocketError) {
        var status = stat()
        guard lstat(path, &status) == 0 else { return }
        guard status.st_mode & S_IFMT == S_IFSOCK else { throw .notASocket(path: path) }
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { throw .system(SystemCallError("socket", "probing \(path)")) }
        defer { close(probe) }
        if address.withSockaddr({ connect(probe, $0, $1) }) == 0 { throw .inUse(path: path) }
        let connectErrno = errno
        guard connectErrno == ECONNREFUSED else { throw error("connect", path, connectErrno) }
        guard unlink(path) == 0 || errno == ENOENT else { throw error("unlink", path, errno) }
    }

    private static func groupID(named name: String) -> gid_t? {
        var group = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getgrnam_r(name, &group, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return group.gr_gid
    }

    static func error(_ call: String, _ path: String, _ code: Int32) -> ControlSocketError {
        if code == EACCES || code == EPERM { return .permissionDenied(path: path) }
        return .system(SystemCallError(call, path, errno: .init(rawValue: code)))
    }
}
