import Testing
import USDT

/// The three ways the library can attach on this kernel; every suite runs in each.
///
/// `multi` is the default on Linux 6.10+; `perfEvent` is the per-site fallback; `noCookie`
/// is libbpf's path for kernels without BPF cookies (IP → spec-ID map), exercised here with a
/// recorder built to look specs up by IP.
enum AttachMode: String, CaseIterable, CustomTestStringConvertible, Sendable {
  case multi, perfEvent = "perf-event", noCookie = "no-cookie"

  var testDescription: String { rawValue }

  var options: BPFObject.Options {
    switch self {
    case .multi: .init(backend: .uprobeMulti)
    case .perfEvent: .init(backend: .perfEvent)
    case .noCookie: .init(specLookup: .ipMap)
    }
  }

  /// Without cookies a position-independent file can only be attached in one process.
  func everyProcessOrOnly(_ pid: Int32) -> Target {
    self == .noCookie ? .process(pid) : .allProcesses
  }
}
