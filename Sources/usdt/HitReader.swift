import FoundationEssentials
import Glibc
import USDT

/// One hit as the recorder stores it: `struct hit` in TestTargets/bpf/recorder.h.
struct RecordedHit {
  var program: UInt32
  var pid: Int32
  var tid: Int32
  /// `bpf_usdt_arg_cnt()`: the spec's argument count, or a negative errno.
  var argumentCount: Int32
  var cookie: UInt64
  /// Where the uprobe sits, in the process's address space.
  var ip: UInt64
  /// `bpf_usdt_arg()`'s return for each of the 12 slots: 0, or a negative errno.
  var returns: [Int64]
  /// The values, already sign- or zero-extended from their size by the BPF side.
  var values: [UInt64]
  /// The size each argument's spec declares, or a negative errno past the last argument.
  var sizes: [Int32]

  /// Byte size of `struct hit`: 4 × 4 + 2 × 8 + 12 × 8 + 12 × 8 + 12 × 4.
  static let size = 272

  init(_ bytes: [UInt8]) {
    func load<T>(_ offset: Int, _: T.Type) -> T {
      bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }
    program = load(0, UInt32.self)
    pid = load(4, Int32.self)
    tid = load(8, Int32.self)
    argumentCount = load(12, Int32.self)
    cookie = load(16, UInt64.self)
    ip = load(24, UInt64.self)
    returns = (0..<12).map { load(32 + 8 * $0, Int64.self) }
    values = (0..<12).map { load(128 + 8 * $0, UInt64.self) }
    sizes = (0..<12).map { load(224 + 4 * $0, Int32.self) }
  }
}

/// Reads new hits from the recorder's `hits` array and `hit_count` counter.
///
/// The BPF side takes a slot with an atomic increment of `hit_count`, then fills it, so a slot
/// counted at one poll may still be being written. A slot is therefore read only at the poll
/// after the one that first counted it, 50 ms later. The array holds ``capacity`` hits, and the
/// recorder stops storing at its end, so the counter is set back to 0 whenever the slots can be
/// reused (see ``poll()``). Hits are lost when more arrive between two polls than the array
/// holds (bursts of hundreds of thousands a second, or a consumer that cannot keep up), and a
/// hit that takes a slot in the microseconds between reading the counter and resetting it is
/// lost too. ``lost`` counts the hits the counter showed beyond the array's end.
final class HitReader {
  /// `MAX_HITS` in recorder.h.
  static let capacity = 65_536

  private let hits: BPFMap
  private let counter: BPFMap
  /// The next slot to read.
  private var next = 0
  /// The counter at the previous poll, up to the array's end: slots below it are complete.
  private var complete = 0
  /// The counter at the previous poll.
  private var previous: UInt64 = 0
  /// Slots of the array's previous round, counted before a reset and read at the next poll.
  private var carried: Range<Int> = 0..<0
  /// Hits counted by the BPF side that no slot held.
  private(set) var lost: UInt64 = 0

  init(object: BPFObject) throws(USDTError) {
    hits = try object.map(named: "hits")
    counter = try object.map(named: "hit_count")
    guard hits.valueSize == RecordedHit.size, hits.maxEntries == Self.capacity else {
      throw USDTError(
        .incompatibleBPFObject,
        "the recorder's hits map holds \(hits.maxEntries) values of \(hits.valueSize) bytes, expected \(Self.capacity) of \(RecordedHit.size)",
        binary: object.path)
    }
  }

  /// The hits that are complete and not yet read, oldest first.
  func poll() throws(USDTError) -> [RecordedHit] {
    var result = try read(carried)
    carried = 0..<0
    let counted = try count()
    let increment = counted &- previous
    result += try read(next..<min(complete, Self.capacity))
    next = max(next, min(complete, Self.capacity))
    // Reuse the array once everything counted has been read (nothing new for a whole poll), or
    // when the slots read so far leave room for twice what arrived during the last poll: the
    // slots counted but not yet complete are read at the next poll, before new hits reach them.
    // A full array has been read whole; the recorder stores nothing more until the reset.
    let caughtUp = counted == UInt64(next) || next == Self.capacity
    if next > 0 && (caughtUp || (next >= 4096 && UInt64(next) >= 2 * increment)) {
      // Read the counter again right before resetting it: reading the slots took a while.
      let last = try count()
      try counter.setValue([UInt8](repeating: 0, count: 8), at: 0)
      if last > UInt64(Self.capacity) { lost += last - UInt64(Self.capacity) }
      carried = next..<Int(min(last, UInt64(Self.capacity)))
      next = 0
      complete = 0
      previous = 0
    } else {
      complete = Int(min(counted, UInt64(Self.capacity)))
      previous = counted
    }
    return result
  }

  /// Every hit not yet read, complete or not; for after the links are gone.
  func drain() throws(USDTError) -> [RecordedHit] {
    var result = try read(carried)
    carried = 0..<0
    let counted = try count()
    result += try read(next..<min(Int(counted), Self.capacity))
    next = max(next, min(Int(counted), Self.capacity))
    if counted > UInt64(Self.capacity) { lost += counted - UInt64(Self.capacity) }
    return result
  }

  private func count() throws(USDTError) -> UInt64 {
    try counter.value(at: 0).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
  }

  private func read(_ slots: Range<Int>) throws(USDTError) -> [RecordedHit] {
    var result: [RecordedHit] = []
    result.reserveCapacity(slots.count)
    for slot in slots {
      result.append(RecordedHit(try hits.value(at: UInt32(slot))))
    }
    return result
  }
}
