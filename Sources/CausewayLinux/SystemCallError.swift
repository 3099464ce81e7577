import CausewayCore
import Glibc
import SystemPackage

/// A failed system call, naming the call and what it was for.
public struct SystemCallError: Error, CustomStringConvertible {
    public let call: String
    public let subject: String
    public let errno: Errno

    public init(_ call: String, _ subject: String, errno: Errno = Errno(rawValue: Glibc.errno)) {
        self.call = call
        self.subject = subject
        self.errno = errno
    }

    public var description: String { "\(call) (\(subject)): \(errno)" }
}

/// Runs `body` again while it fails with EINTR; returns its result, negative on failure
/// with errno left as the call set it.
@inline(__always)
func retryingInterrupts<T: BinaryInteger>(_ body: () -> T) -> T {
    while true {
        let result = body()
        if result < 0 && Glibc.errno == EINTR { continue }
        return result
    }
}

extension IOResult {
    /// The result of a call on the data path that failed with `code`: EAGAIN is no failure,
    /// only nothing to do now; EMSGSIZE is a datagram larger than the device takes.
    @inline(__always)
    init(failedWith code: Int32) {
        switch code {
        case EAGAIN, EWOULDBLOCK: self = .wouldBlock
        case EMSGSIZE: self = .tooLarge
        default: self = .failed(errno: code)
        }
    }
}
