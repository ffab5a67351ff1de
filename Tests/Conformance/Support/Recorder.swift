import Foundation
import USDT

/// The generic recorder BPF object (TestTargets/bpf/recorder.bpf.c) and the hits it stored.
final class Recorder {
  let object: BPFObject

  /// One hit, as `struct hit` in recorder.bpf.c lays it out.
  struct Hit: Equatable {
    var program: UInt32
    var pid: Int32
    var tid: Int32
    var argCount: Int32
    var cookie: UInt64
    var ip: UInt64
    var returns: [Int64]
    var arguments: [UInt64]
    var sizes: [Int32]
    /// Per-argument flags (bit 0 float, bit 1 available); only objects built with our header record them.
    var flags: [Int32]?

    /// Argument `i` as a signed value (the BPF side sign-extended it already).
    func signed(_ i: Int) -> Int64 { Int64(bitPattern: arguments[i]) }
  }

  /// Loads `TestTargets/out/<object>.bpf.o`, or its `-nocookie` build in no-cookie mode.
  init(
    _ mode: AttachMode = .multi, object name: String = "recorder", specCapacity: Int? = nil,
    rejectsUnreadableArguments: Bool = false
  ) throws {
    var options = mode.options
    options.specCapacity = specCapacity
    options.rejectsUnreadableArguments = rejectsUnreadableArguments
    let file = name + (mode == .noCookie ? "-nocookie" : "") + ".bpf.o"
    object = try BPFObject(path: TestTargets.path(file), options: options)
  }

  func program(_ name: String) throws -> BPFProgram { try object.program(named: name) }

  /// Every hit recorded so far, in order.
  func hits() throws -> [Hit] {
    let count = try totalHits()
    let map = try object.map(named: "hits")
    return try (0..<UInt32(min(count, UInt64(map.maxEntries)))).map { try decode(map.value(at: $0)) }
  }

  /// Hits from one process.
  func hits(pid: Int32) throws -> [Hit] { try hits().filter { $0.pid == pid } }

  /// Every hit, including any beyond the recorded ones.
  func totalHits() throws -> UInt64 {
    let bytes = try object.map(named: "hit_count").value(at: 0)
    return bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
  }

  func reset() throws {
    try object.map(named: "hit_count").setValue([UInt8](repeating: 0, count: 8), at: 0)
  }

  private func decode(_ bytes: [UInt8]) -> Hit {
    bytes.withUnsafeBytes { raw in
      func load<T>(_ offset: Int, _: T.Type) -> T { raw.loadUnaligned(fromByteOffset: offset, as: T.self) }
      return Hit(
        program: load(0, UInt32.self), pid: load(4, Int32.self), tid: load(8, Int32.self),
        argCount: load(12, Int32.self), cookie: load(16, UInt64.self), ip: load(24, UInt64.self),
        returns: (0..<12).map { load(32 + 8 * $0, Int64.self) },
        arguments: (0..<12).map { load(128 + 8 * $0, UInt64.self) },
        sizes: (0..<12).map { load(224 + 4 * $0, Int32.self) },
        flags: raw.count >= 320 ? (0..<12).map { load(272 + 4 * $0, Int32.self) } : nil)
    }
  }
}
