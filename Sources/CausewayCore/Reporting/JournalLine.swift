/// One log line as systemd's journal reads it from a service's stderr: a `<N>` syslog
/// priority prefix, then the message, then key=value fields. No timestamp and no program
/// name: the journal records both itself, and a second copy only pushes the message off the
/// screen in `journalctl`.
public enum JournalLine {
    /// The syslog priority of a log level (sd-daemon(3)): critical 2, error 3, warning 4,
    /// notice 5, info 6, debug and trace 7 (syslog has nothing finer than debug).
    public static func priority(_ level: Configuration.LogLevel) -> Int {
        switch level {
        case .critical: 2
        case .error: 3
        case .warning: 4
        case .notice: 5
        case .info: 6
        case .debug, .trace: 7
        }
    }

    /// The line, without its newline. Fields are sorted by key so that equal events read
    /// alike; a line break in the message or a value is written as `\n`, since the journal
    /// would make every line its own entry, and the second without its priority.
    public static func format(level: Configuration.LogLevel, message: String, fields: [(key: String, value: String)]) -> String {
        var line = "<\(priority(level))>" + escapingLineBreaks(message)
        for field in fields.sorted(by: { $0.key < $1.key }) {
            line += " \(field.key)=\(quotedIfNeeded(field.value))"
        }
        return line
    }

    /// A value with white space, quotes or an `=` is quoted, so fields stay apart for a reader
    /// (or `grep 'peer='`); an empty value is `""`.
    static func quotedIfNeeded(_ value: String) -> String {
        let plain = !value.isEmpty && !value.contains { $0.isWhitespace || $0 == "\"" || $0 == "=" || $0 == "\\" }
        if plain { return value }
        let escaped = value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
        return "\"" + escapingLineBreaks(escaped) + "\""
    }

    private static func escapingLineBreaks(_ text: String) -> String {
        text.replacing("\r\n", with: "\\n").replacing("\n", with: "\\n").replacing("\r", with: "\\r")
    }
}
