/// What one system call on the data path did, as the data path needs to know it. The one
/// result type of every frame and datagram operation, whatever performs it: the kernel in
/// the daemon (CausewayLinux), memory in tests.
public enum IOResult: Sendable, Equatable {
    /// Done: this many bytes, frames or buffers moved.
    case completed(Int)
    /// Nothing waiting to be read, or no room to write now.
    case wouldBlock
    /// A datagram larger than the device takes (EMSGSIZE): never fragmented, refused.
    case tooLarge
    /// Refused by the kernel with this errno; the data path counts it and goes on.
    case failed(errno: Int32)
}

/// Where the frames of the site's LAN come from and go to: the TAP device in the daemon,
/// a queue in memory in tests. Frames travel with a virtio-net header (VirtioNetHeader).
public protocol FrameDevice: AnyObject {
    /// Reads one frame into `frame` and its virtio-net header into `header`; `.completed`
    /// with the frame's length (which may exceed `frame.count` when the frame was cut).
    func read(into frame: UnsafeMutableRawBufferPointer, header: UnsafeMutableRawBufferPointer) -> IOResult
    /// Writes one frame behind `header`, which may ask the device to segment it; nil for a
    /// plain frame.
    func write(_ frame: UnsafeRawBufferPointer, header: UnsafeRawBufferPointer?) -> IOResult
    /// Turns the device's carrier on or off: the LAN's bridge sends into it only with carrier.
    func setCarrier(_ on: Bool) -> IOResult
    /// Whether a frame written may ask for UDP segmentation (`UDPCoalescer`); when not, each
    /// datagram is written as it came.
    var acceptsUDPSegmentation: Bool { get }
}

/// What became of a batch of datagrams handed to a `DatagramSocket`.
public struct BatchSendResult: Sendable, Equatable {
    public var sent = 0
    public var failed = 0
    /// The length of a datagram refused as larger than the device takes (EMSGSIZE).
    public var tooLargeLength: Int?

    public init(sent: Int = 0, failed: Int = 0, tooLargeLength: Int? = nil) {
        self.sent = sent
        self.failed = failed
        self.tooLargeLength = tooLargeLength
    }
}

/// The WAN side: one UDP socket with batches of send slots that datagrams are sealed into in
/// place, and batched receive. The daemon's is recvmmsg/sendmmsg with UDP GSO and GRO; the
/// tests' is memory.
public protocol DatagramSocket: AnyObject {
    /// How many send slots there are: the most datagrams one `flush` sends.
    var sendSlotCount: Int { get }
    /// How many buffers one `receive` reads at most.
    var receiveBatchCapacity: Int { get }
    /// The memory of send slot `slot`, where a datagram is built.
    func sendSlot(_ slot: Int) -> UnsafeMutableRawBufferPointer
    /// Marks slot `slot` as holding `length` bytes for `destination`.
    func prepare(_ slot: Int, length: Int, to destination: EndpointAddress)
    /// Sends the first `count` prepared slots, in order, without blocking.
    func flush(_ count: Int) -> BatchSendResult
    /// Sends one datagram now: handshakes and control messages, never bulk.
    func send(_ datagram: UnsafeRawBufferPointer, to destination: EndpointAddress) -> IOResult
    /// Receives up to `receiveBatchCapacity` buffers without blocking and calls `body` with
    /// each datagram in them, in order, and its source; `.completed` with how many buffers
    /// were read (one may hold several datagrams), `.wouldBlock` when none was waiting.
    func receive(_ body: (_ datagram: UnsafeRawBufferPointer, _ source: EndpointAddress) -> Void) -> IOResult
}
