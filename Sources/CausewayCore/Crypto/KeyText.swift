#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Why a key's text was refused. Every key Causeway reads (private, public, pre-shared) is
/// 32 bytes written as base64, the form `wg genkey` and `wg pubkey` use.
public enum KeyParseError: Error, Equatable, CustomStringConvertible {
    case notBase64
    case wrongLength(Int)

    public var description: String {
        switch self {
        case .notBase64: "is not base64 text"
        case .wrongLength(let count): "holds \(count) bytes, a key has \(KeyText.length)"
        }
    }
}

/// The one text form of a key: 32 bytes in base64, white space around it ignored.
public enum KeyText {
    public static let length = 32

    public static func bytes(of text: String) throws(KeyParseError) -> [UInt8] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let data = Data(base64Encoded: trimmed) else { throw .notBase64 }
        guard data.count == length else { throw .wrongLength(data.count) }
        return Array(data)
    }

    public static func text(of bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// Thirty-two bytes from the system's cryptographically secure generator.
    static func randomBytes() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<length).map { _ in generator.next() }
    }
}

extension Array where Element == UInt8 {
    /// Overwrites the bytes in place before they are released: for copies of key material
    /// that we own (swift-crypto's own key storage zeroes itself).
    public mutating func overwriteWithZeros() {
        withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
    }
}
