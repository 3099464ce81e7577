import Testing
@testable import CausewayCore

@Suite struct JournalLineTests {
    @Test(arguments: [
        (Configuration.LogLevel.critical, 2), (.error, 3), (.warning, 4), (.notice, 5), (.info, 6), (.debug, 7), (.trace, 7),
    ])
    func prioritiesAreSyslogs(level: Configuration.LogLevel, priority: Int) {
        #expect(JournalLine.priority(level) == priority)
        #expect(JournalLine.format(level: level, message: "m", fields: []) == "<\(priority)>m")
    }

    @Test func messageFirstThenSortedFields() {
        let line = JournalLine.format(level: .notice, message: "bridging", fields: [("tap", "cw0"), ("bridge", "br0"), ("listen", "198.18.0.1:51820")])
        #expect(line == "<5>bridging bridge=br0 listen=198.18.0.1:51820 tap=cw0")
    }

    @Test func noTimestampAndNoLabel() {
        let line = JournalLine.format(level: .info, message: "peer up", fields: [])
        #expect(line == "<6>peer up")
    }

    @Test func valuesThatWouldRunTogetherAreQuoted() {
        let line = JournalLine.format(level: .warning, message: "m", fields: [
            ("empty", ""), ("spaced", "a b"), ("quote", #"say "hi""#), ("equals", "a=b"), ("backslash", #"a\b"#),
        ])
        #expect(line == #"<4>m backslash="a\\b" empty="" equals="a=b" quote="say \"hi\"" spaced="a b""#)
    }

    @Test func lineBreaksStayInOneEntry() {
        let line = JournalLine.format(level: .error, message: "first\nsecond", fields: [("detail", "x\ny")])
        #expect(line == #"<3>first\nsecond detail="x\ny""#)
        #expect(!line.contains("\n"))
    }
}
