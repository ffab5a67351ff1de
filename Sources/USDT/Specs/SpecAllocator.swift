import Synchronization

/// Hands out slots of one BPF object's spec map, shared by every link made from that object.
///
/// As in libbpf: new IDs count up from 0 to the map's capacity, and released IDs go on a free
/// list that is popped last-in first-out, so a detach followed by a re-attach reuses the same
/// slots. Map entries are not cleared on release; the next user overwrites them.
final class SpecAllocator: Sendable {
  private struct State {
    var next: Int32 = 0
    var free: [Int32] = []
  }
  private let state = Mutex(State())
  /// Entries of `__bpf_usdt_specs` (256 by default with libbpf's header).
  let capacity: Int

  init(capacity: Int) { self.capacity = capacity }

  /// One free spec ID.
  ///
  /// - Throws: `.specMapFull` (errno `E2BIG`, as libbpf) when every slot is in use.
  func allocate() throws(USDTError) -> Int32 {
    let id: Int32? = state.withLock { state in
      if let reused = state.free.popLast() { return reused }
      guard Int(state.next) < capacity else { return nil }
      defer { state.next += 1 }
      return state.next
    }
    guard let id else {
      throw USDTError(
        .specMapFull, "all \(capacity) slots of \(BPFNames.specsMap) are in use", errno: .argListTooLong,
        hint:
          "Detach other probes of this BPF object, or raise the limit with BPFObject.Options(specCapacity:) or -DBPF_USDT_MAX_SPEC_CNT=N when building the BPF program"
      )
    }
    return id
  }

  /// Returns IDs to the free list.
  func release(_ ids: [Int32]) {
    guard !ids.isEmpty else { return }
    state.withLock { $0.free.append(contentsOf: ids) }
  }

  /// IDs currently handed out; tests use it to prove that detach returns every ID.
  var inUse: Int { state.withLock { Int($0.next) - $0.free.count } }
  /// The free list, in pop order last; tests check reuse.
  var freeList: [Int32] { state.withLock { $0.free } }
}
