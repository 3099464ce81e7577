import CLinuxShim
import Glibc

/// One connection on a control socket: non-blocking on the daemon's side, blocking with
/// timeouts on causewayctl's.
public final class UnixStream: @unchecked Sendable {
    public let descriptor: Int32

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Connects to the socket at `path`, naming the usual failures for what they mean.
    public static func connect(path: String, timeout: Duration) throws(ControlSocketError) -> UnixStream {
        guard let address = UnixSocketAddress(path: path) else { throw .pathTooLong(path: path) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(SystemCallError("socket", path)) }
        let stream = UnixStream(descriptor: fd)
        stream.setTimeout(timeout)
        if retryingInterrupts({ address.withSockaddr { Glibc.connect(fd, $0, $1) } }) != 0 {
            switch errno {
            case ENOENT, ENOTDIR: throw .missing(path: path)
            case ECONNREFUSED, ENOTSOCK:
                // A regular file also refuses: name what is there rather than "not running".
                if let kind = fileKind(path), kind != "a socket" { throw .notASocketFile(path: path, kind: kind) }
                throw .notListening(path: path)
            default: throw UnixListener.error("connect", path, errno)
            }
        }
        return stream
    }

    /// What sits at `path`, in words ("a regular file"); nil when stat fails.
    static func fileKind(_ path: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return fileKind(mode: status.st_mode)
    }

    static func fileKind(mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFSOCK: "a socket"
        case S_IFREG: "a regular file"
        case S_IFDIR: "a directory"
        case S_IFIFO: "a named pipe"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        default: "a file of another type"
        }
    }

    public enum ReadResult: Equatable {
        case bytes(Int)
        case wouldBlock
        /// The peer closed the connection, or it failed.
        case closed
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) -> ReadResult {
        let count = retryingInterrupts { recv(descriptor, buffer.baseAddress, buffer.count, 0) }
        if count > 0 { return .bytes(count) }
        if count < 0, errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
        return .closed
    }

    /// Writes what the socket takes now; nil when the connection is gone. Never raises
    /// SIGPIPE: a client that left must not end the daemon.
    public func write(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let count = retryingInterrupts { send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
        if count >= 0 { return count }
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : nil
    }

    /// Blocking: writes every byte.
    public func writeAll(_ bytes: [UInt8]) throws(SystemCallError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write($0) }
            guard let written, written > 0 else { throw SystemCallError("send", "control socket") }
            offset += written
        }
    }

    /// Blocking: reads up to and excluding the first newline.
    public func readLine() throws(SystemCallError) -> [UInt8] {
        var line: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let result = chunk.withUnsafeMutableBytes { read(into: $0) }
            switch result {
            case .bytes(let count):
                if let newline = chunk[..<count].firstIndex(of: UInt8(ascii: "\n")) {
                    return line + chunk[..<newline]
                }
                line += chunk[..<count]
            case .wouldBlock:
                throw SystemCallError("recv", "control socket: no reply in time", errno: .resourceTemporarilyUnavailable)
            case .closed:
                throw SystemCallError("recv", "control socket: the daemon closed the connection", errno: .connectionReset)
            }
        }
    }

    private func setTimeout(_ timeout: Duration) {
        var value = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }
}
