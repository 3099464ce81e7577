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
