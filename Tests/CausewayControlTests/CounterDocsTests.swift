import CausewayCore
import Foundation
import Testing
@testable import CausewayControl

/// docs/control.md's counter table is generated from `Counters.descriptors`, like every report.
@Suite struct CounterDocsTests {
    /// The table as docs/control.md must hold it, from the descriptors.
    static func markdownTable() -> String {
        var lines = [
            "| `status.counters` and `status --all` row | metric | counts |",
            "|---|---|---|",
        ]
        for descriptor in Counters.descriptors {
            lines.append("| `\(descriptor.key)` | `\(MetricsExposition.prefix)\(descriptor.metric)_total` | \(descriptor.help) |")
        }
        let drops = Counters.dropDescriptor
        lines.append(
            "| `\(drops.key).REASON` (REASON, under \(drops.heading)) | `\(MetricsExposition.prefix)\(drops.metric)_total{\(drops.labelName)=\"REASON\"}` "
                + "| \(drops.help) |"
        )
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func docsControlHoldsTheGeneratedTable() throws {
        let docs = URL(filePath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "docs/control.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let table = Self.markdownTable()
        #expect(text.contains(table), "docs/control.md must contain, verbatim:\n\(table)")
    }

    @Test func theFullHumanReportShowsEveryCounterByItsKey() throws {
        var counters = Counters()
        for (index, descriptor) in Counters.descriptors.enumerated() {
            counters[keyPath: descriptor.field] = UInt64(1000 + index)
        }
        let report = StatusReport(
            snapshot: Fixtures.snapshot(counters: counters), configuration: try Fixtures.configuration(),
            configurationPath: "/etc/causeway/site.toml", tapAddress: MACAddress("02:00:5e:00:00:01")!, uptime: .seconds(1), devices: []
        )
        let lines = HumanReport.fullStatus(report).split(separator: "\n").map(String.init)
        for (index, descriptor) in Counters.descriptors.enumerated() {
            let row = lines.filter { $0.hasPrefix(descriptor.key + " ") }
            #expect(row.count == 1 && row[0].hasSuffix(" \(1000 + index)"), "\(descriptor.key)")
        }
        for group in CounterDescriptor.Group.allCases {
            #expect(lines.contains { $0.hasPrefix(group.heading + " ") })
        }
        for reason in DropReason.allCases {
            #expect(lines.contains { $0.hasPrefix(reason.rawValue + " ") })
        }
    }
}
