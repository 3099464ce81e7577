/// Why a control socket could not be served or reached, in words an operator can act on.
public enum ControlSocketError: Error, CustomStringConvertible {
    /// Another process accepts connections on the path.
    case inUse(path: String)
    /// Something other than a socket sits at the path.
    case notASocket(path: String)
    /// Something other than a socket sits where a client expected one: `kind` names it
    /// ("a regular file", "a directory") (client side).
    case notASocketFile(path: String, kind: String)
    /// No socket at the path (client side).
    case missing(path: String)
    /// A socket file with nobody listening: its daemon is gone (client side).
    case notListening(path: String)
    /// The caller may not connect to the socket or create it.
    case permissionDenied(path: String)
    case pathTooLong(path: String)
    case system(SystemCallError)

    public var description: String {
        switch self {
        case .inUse(let path):
            "\(path) is in use by a running causewayd; stop that daemon first or give this one another control-socket"
        case .notASocket(let path):
            "\(path) exists and is not a socket; remove it or choose another control-socket"
        case .notASocketFile(let path, let kind):
            "\(path) is \(kind), not a socket: give the control socket of a running causewayd (--socket PATH)"
        case .missing(let path):
            "no control socket at \(path): causewayd is not running, or uses another socket (--socket PATH)"
        case .notListening(let path):
            "causewayd is not running: nothing listens on \(path) (a stale socket from a daemon that ended)"
        case .permissionDenied(let path):
            "permission denied on \(path): run as root or as a member of group causeway"
        case .pathTooLong(let path):
            "\(path) is too long for a Unix socket path"
        case .system(let error):
            error.description
        }
    }
}
