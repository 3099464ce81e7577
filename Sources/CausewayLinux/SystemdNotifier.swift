import CLinuxShim
import Glibc

/// Tells systemd how the service is doing (sd_notify(3)): a datagram of `KEY=value` lines to
/// the socket named by NOTIFY_SOCKET. A few lines of code instead of a libsystemd dependency.
public final class SystemdNotifier: @unchecked Sendable {
    private let descriptor: Int32
    private let address: UnixSocketAddress

    /// Nil when the process was not started with NOTIFY_SOCKET (not under systemd's
    /// Type=notify), so callers simply skip notifying.
    public init?() {
        guard let path = getenv("NOTIFY_SOCKET").map({ String(cString: $0) }),
              let address = UnixSocketAddress(path: path)
        else { return nil }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        descriptor = fd
        self.address = address
    }

    deinit { close(descriptor) }

    /// Sends `fields` as one notification; a failure is not fatal to the service, so it is
    /// reported to the caller rather than thrown.
    @discardableResult
    public func notify(_ fields: [String]) -> Bool {
        let message = Array(fields.joined(separator: "\n").utf8)
        let sent = message.withUnsafeBytes { bytes in
            address.withSockaddr { sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, $1) }
        }
        return sent == message.count
    }

    /// How often systemd expects WATCHDOG=1, from WATCHDOG_USEC (nil when the watchdog is
    /// off, or meant for another process per WATCHDOG_PID).
    public static func watchdogInterval() -> Duration? {
        if let pid = getenv("WATCHDOG_PID").flatMap({ Int32(String(cString: $0)) }), pid != getpid() {
            return nil
        }
        guard let text = getenv("WATCHDOG_USEC").map({ String(cString: $0) }),
              let microseconds = Int64(text), microseconds > 0
        else { return nil }
        return .microseconds(microseconds)
    }
}
