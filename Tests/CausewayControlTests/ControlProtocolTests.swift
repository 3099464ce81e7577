import CausewayCore
import Testing
@testable import CausewayControl

@Suite struct ControlProtocolTests {
    func parse(_ text: String) throws(ControlError) -> ControlRequest {
        try ControlRequest(line: Array(text.utf8))
    }

    func failure(_ text: String) -> ControlError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesEveryRequest() throws {
        #expect(try parse(#"{"version":1,"request":"status"}"#) == .status)
        #expect(try parse(#"{"version":1,"request":"macs"}"#) == .macs)
        #expect(try parse(#"{"version":1,"request":"metrics"}"#) == .metrics)
        #expect(try parse(#"{"version":1,"request":"explain","mac":"02:00:00:00:00:0A"}"#) == .explain(Fixtures.hostA))
    }

    @Test func aRequestLineParsesBack() throws {
        for request in [ControlRequest.status, .macs, .metrics, .explain(Fixtures.hostB)] {
            let line = request.line
            #expect(line.last == UInt8(ascii: "\n"))
            #expect(try ControlRequest(line: line.dropLast()) == request)
        }
    }

    @Test func refusesWhatItCannotServe() {
        #expect(failure("{not json")?.code == .malformedRequest)
        #expect(failure(#"["status"]"#)?.code == .malformedRequest)
        #expect(failure(#"{"request":"status"}"#)?.code == .malformedRequest)
        #expect(failure(#"{"version":1}"#)?.code == .malformedRequest)
        #expect(failure(#"{"version":2,"request":"status"}"#)?.code == .unsupportedVersion)
        #expect(failure(#"{"version":1,"request":"dance"}"#)?.message.contains("'dance'") == true)
        #expect(failure(#"{"version":1,"request":"dance"}"#)?.code == .unknownRequest)
        #expect(failure(#"{"version":1,"request":"explain"}"#)?.code == .badArgument)
        #expect(failure(#"{"version":1,"request":"explain","mac":"02:00"}"#)?.code == .badArgument)
    }

    @Test func repliesSurviveTheWire() throws {
        let error = ControlReply(error: ControlError(.timeout, "no request"))
        #expect(try ControlReply(line: error.line.dropLast()) == error)
        let macs = ControlReply(macs: Fixtures.snapshot().macEntries())
        #expect(try ControlReply(line: macs.line.dropLast()) == macs)
        // One line each: a newline inside would cut the reply in two.
        #expect(macs.line.filter { $0 == UInt8(ascii: "\n") }.count == 1)
    }
}

@Suite struct RequestBufferTests {
    @Test func cutsLinesAsTheyComplete() {
        var buffer = RequestBuffer(limit: 64)
        buffer.append(Array(#"{"a":1}"#.utf8) + [10] + Array("{\"b\"".utf8))
        #expect(buffer.next() == .request(Array(#"{"a":1}"#.utf8)))
        #expect(buffer.next() == .incomplete)
        buffer.append(Array(":2}\r\n".utf8))
        #expect(buffer.next() == .request(Array(#"{"b":2}"#.utf8)))
        #expect(buffer.isEmpty)
    }

    @Test func refusesALineOverTheLimit() {
        var unterminated = RequestBuffer(limit: 8)
        unterminated.append(Array(repeating: UInt8(ascii: "x"), count: 9))
        #expect(unterminated.next() == .tooLong)

        var terminated = RequestBuffer(limit: 8)
        terminated.append(Array(repeating: UInt8(ascii: "x"), count: 9) + [10])
        #expect(terminated.next() == .tooLong)

        var atTheLimit = RequestBuffer(limit: 8)
        atTheLimit.append(Array(repeating: UInt8(ascii: "x"), count: 8) + [10])
        #expect(atTheLimit.next() == .request(Array(repeating: UInt8(ascii: "x"), count: 8)))
    }
}
