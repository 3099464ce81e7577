import CausewayCore
import Glibc
import Testing
@testable import CausewayLinux

/// How a batch of sealed datagrams is grouped into UDP GSO sends: memory only, no socket.
@Suite struct DatagramBatchTests {
    static let peer = SocketAddress(EndpointAddress(SocketEndpoint("198.18.0.2:51820")!), family: AF_INET)
    static let other = SocketAddress(EndpointAddress(SocketEndpoint("198.18.0.3:51820")!), family: AF_INET)

    /// A batch whose first slots are prepared with these lengths and destinations.
    func batch(_ datagrams: [(length: Int, to: SocketAddress)]) -> DatagramBatch {
        let batch = DatagramBatch(capacity: 64, slotSize: 2048)
        for (slot, datagram) in datagrams.enumerated() {
            batch.prepare(slot, length: datagram.length, to: datagram.to)
        }
        return batch
    }

    /// Each run as (first slot, datagrams, whether it asks the kernel to segment).
    func runs(_ batch: DatagramBatch, count: Int) -> [[Int]] {
        let messages = batch.arrangeRuns(count)
        return (0..<messages).map { message in
            let header = batch.runs[message].msg_hdr
            #expect(batch.runFirstSlot[message + 1] - batch.runFirstSlot[message] == header.msg_iovlen)
            return [batch.runFirstSlot[message], header.msg_iovlen, header.msg_controllen > 0 ? 1 : 0]
        }
    }

    @Test func equalDatagramsToOnePeerLeaveAsOneSegmentedSend() {
        let batch = batch(Array(repeating: (1400, Self.peer), count: 10))
        #expect(runs(batch, count: 10) == [[0, 10, 1]])
    }

    @Test func aShorterDatagramEndsItsRunAndALongerOneStartsANewOne() {
        let lengths = [1400, 1400, 900, 1400, 1400, 1500]
        let batch = batch(lengths.map { ($0, Self.peer) })
        #expect(runs(batch, count: lengths.count) == [[0, 3, 1], [3, 2, 1], [5, 1, 0]])
    }

    @Test func anotherDestinationStartsANewRun() {
        let batch = batch([(1400, Self.peer), (1400, Self.peer), (1400, Self.other), (1400, Self.other)])
        #expect(runs(batch, count: 4) == [[0, 2, 1], [2, 2, 1]])
    }

    @Test func aRunStaysWithinUDPsLength() {
        // 64 datagrams of 1400 bytes are 89,600 bytes: more than one send may carry.
        let batch = batch(Array(repeating: (1400, Self.peer), count: 64))
        let grouped = runs(batch, count: 64)
        #expect(grouped.map { $0[1] } == [46, 18])
        #expect(grouped.allSatisfy { $0[1] * 1400 <= SegmentRuns.maximumBytes })
    }
}

@Suite struct SocketAddressTests {
    @Test(arguments: ["198.18.0.2:51820", "[fd00::2]:4789"])
    func anEndpointSurvivesTheTripThroughASocketAddress(_ text: String) throws {
        let endpoint = EndpointAddress(try #require(SocketEndpoint(text)))
        for family in [AF_INET6] + (endpoint.isIPv4 ? [AF_INET] : []) {
            let address = SocketAddress(endpoint, family: family)
            #expect(address.endpointAddress == endpoint)
        }
    }

    @Test func aLinkLocalPeerKeepsItsInterface() {
        let endpoint = EndpointAddress(high: 0xFE80 << 48, low: 2, port: 51820, scopeID: 3)
        let address = SocketAddress(endpoint, family: AF_INET6)
        #expect(address.endpointAddress == endpoint)
        #expect(address.endpointAddress.scopeID == 3)
    }

    @Test func anIPv4PeerOnAnIPv6SocketIsV4Mapped() throws {
        let endpoint = EndpointAddress(try #require(SocketEndpoint("198.18.0.2:51820")))
        let address = SocketAddress(endpoint, family: AF_INET6)
        #expect(Int32(address.storage.ss_family) == AF_INET6)
        #expect(address.description == "[::ffff:198.18.0.2]:51820")
        #expect(SocketAddress(endpoint, family: AF_INET).description == "198.18.0.2:51820")
    }
}

@Suite struct IOResultTests {
    @Test func errnoBecomesWhatTheDataPathActsOn() {
        #expect(IOResult(failedWith: EAGAIN) == .wouldBlock)
        #expect(IOResult(failedWith: EMSGSIZE) == .tooLarge)
        #expect(IOResult(failedWith: EIO) == .failed(errno: EIO))
    }
}

@Suite struct PollSetTests {
    @Test func aSignalledEventFDIsReadyAndADrainedOneIsNot() throws {
        let wakeup = try EventFD()
        var poller = PollSet()
        let position = poller.watch(wakeup.descriptor)
        #expect(poller.wait(timeout: .zero) == .completed(0))
        #expect(!poller.isReady(position))
        wakeup.signal()
        #expect(poller.wait(timeout: .seconds(1)) == .completed(1))
        #expect(poller.isReady(position))
        wakeup.drain()
        #expect(poller.wait(timeout: .zero) == .completed(0))
    }
}
