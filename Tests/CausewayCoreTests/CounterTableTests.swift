import Foundation
import Testing
@testable import CausewayCore

@Suite struct CounterTableTests {
    /// The names of the stored UInt64 properties of `Counters`, as the runtime sees them.
    static let storedCounters: [String] = Mirror(reflecting: Counters()).children.compactMap { child in
        child.value is UInt64 ? child.label : nil
    }

    @Test func everyStoredCounterHasExactlyOneDescriptor() {
        let keys = Counters.descriptors.map(\.key)
        #expect(Set(keys).count == keys.count, "a key described twice")
        #expect(keys.sorted() == Self.storedCounters.sorted())
        #expect(Self.storedCounters.count == Counters.descriptors.count)
    }

    @Test func eachDescriptorReadsTheFieldItNames() {
        // Written through the key path, read back through the runtime's name for the field:
        // a descriptor whose key and field disagree fails here.
        for (index, descriptor) in Counters.descriptors.enumerated() {
            var counters = Counters()
            counters[keyPath: descriptor.field] = UInt64(index + 1)
            let values = Dictionary(uniqueKeysWithValues: Mirror(reflecting: counters).children.compactMap { child in
                (child.value as? UInt64).map { (child.label ?? "", $0) }
            })
            #expect(values[descriptor.key] == UInt64(index + 1), "\(descriptor.key)")
            #expect(values.values.filter { $0 != 0 }.count == 1, "\(descriptor.key) writes one field")
        }
    }

    @Test func namesAreUniqueAndFitEveryFormat() {
        for names in [Counters.descriptors.map(\.metric), Counters.descriptors.map(\.key)] {
            #expect(Set(names).count == names.count)
        }
        let metricCharacters = Set("abcdefghijklmnopqrstuvwxyz_")
        for descriptor in Counters.descriptors {
            #expect(descriptor.metric.allSatisfy(metricCharacters.contains), "\(descriptor.metric)")
            #expect(!descriptor.metric.hasSuffix("_total"), "the suffix is added once, by the exposition")
            // The docs table is Markdown: a bar would cut a cell.
            #expect(![descriptor.help, descriptor.key].contains { $0.contains("|") || $0.contains("\n") })
        }
        #expect(!Counters.descriptors.map(\.metric).contains(Counters.dropDescriptor.metric))
    }

    @Test func theDropsAreTheOneOtherStoredCounter() {
        let others = Mirror(reflecting: Counters()).children.filter { !($0.value is UInt64) }
        #expect(others.map(\.label) == [Counters.dropDescriptor.key])
        #expect(others.first?.value is DropCounts)
    }

    @Test func statusJSONKeepsItsShape() throws {
        var counters = Counters()
        counters.framesToPeer = 7
        counters.drop(.replay, count: 2)
        let object = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(counters)) as? [String: Any])
        #expect(Set(object.keys) == Set(Counters.descriptors.map(\.key) + ["drops"]))
        #expect(object["framesToPeer"] as? Int == 7)
        let drops = try #require(object["drops"] as? [String: Int])
        #expect(Set(drops.keys) == Set(DropReason.allCases.map(\.rawValue)), "every reason, zeros included")
        #expect(drops["replay"] == 2)
        #expect(try JSONDecoder().decode(Counters.self, from: JSONEncoder().encode(counters)) == counters)
    }
}

@Suite struct DropCountsTests {
    @Test func everyReasonHasItsOwnSlotInOrder() {
        #expect(DropReason.allCases.map(\.index) == Array(DropReason.allCases.indices))
        #expect(DropCounts().storage.count == DropReason.allCases.count)
    }

    @Test func countsEachReasonApart() {
        var counters = Counters()
        for (index, reason) in DropReason.allCases.enumerated() {
            counters.drop(reason, count: index)
            counters.drop(reason)
        }
        for (index, reason) in DropReason.allCases.enumerated() {
            #expect(counters.drops(reason) == UInt64(index + 1))
            #expect(counters.drops[reason] == UInt64(index + 1))
        }
        let n = UInt64(DropReason.allCases.count)
        #expect(counters.drops.total == n * (n + 1) / 2)
        #expect(counters != Counters())
    }
}
