extension Configuration {
    /// Refuses a table header whose name starts with a character no key can start with
    /// (`[+`, `[[{`, `[` then the end of the line). toml++ (under TOMLKit) does not check it:
    /// it asserts and aborts the process, so one typo in a file would stop the daemon with a
    /// C++ assertion instead of a line number. Found by fuzzing (Tests/Fuzz, fuzz-config).
    ///
    /// Line by line, so a line inside a multi-line array or string that starts the same way is
    /// refused too; no key of ours takes an array, and a string key's value never holds one.
    static func refuseUnnamedTableHeaders(_ text: String, file: String) throws(ConfigurationError) {
        // toml++ skips a byte-order mark before the first line.
        let document = text.drop(while: { $0 == "\u{FEFF}" }).utf8
        var lineNumber = 0
        for line in document.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            var rest = line.drop(while: isBlank)
            guard rest.first == UInt8(ascii: "[") else { continue }
            rest = rest.dropFirst().drop(while: isBlank)
            if rest.first == UInt8(ascii: "[") { rest = rest.dropFirst().drop(while: isBlank) }
            if let first = rest.first, startsName(first) { continue }
            // A header cut off by the end of the text is an error toml++ reports itself; one
            // cut off by the end of a line is not.
            if rest.isEmpty, line.endIndex == document.endIndex { continue }
            throw ConfigurationError(file: file, key: nil, problem: "line \(lineNumber): a table header's name must start with a letter, a digit, '_', '-' or a quote")
        }
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    /// A character a key may start with, or the `]` of an empty name, which toml++ reports.
    private static func startsName(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "]"):
            true
        default:
            false
        }
    }
}
