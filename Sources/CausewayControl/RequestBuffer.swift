/// Collects the bytes a control client sends and cuts them into request lines, refusing a
/// line longer than the protocol allows so a client cannot make the daemon buffer without end.
public struct RequestBuffer: Sendable {
    public enum Next: Equatable, Sendable {
        /// One complete request, without its newline.
        case request([UInt8])
        case incomplete
        case tooLong
    }

    public let limit: Int
    private var bytes: [UInt8] = []

    public init(limit: Int = ControlProtocol.maximumRequestLength) {
        self.limit = limit
    }

    public var isEmpty: Bool { bytes.isEmpty }

    public mutating func append(_ chunk: some Sequence<UInt8>) {
        bytes.append(contentsOf: chunk)
    }

    /// Takes the next request line out of the buffer.
    public mutating func next() -> Next {
        guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else {
            return bytes.count > limit ? .tooLong : .incomplete
        }
        guard newline <= limit else { return .tooLong }
        var line = Array(bytes[..<newline])
        bytes.removeSubrange(...newline)
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return .request(line)
    }
}
