import ArgumentParser
import USDT

/// `PATH:provider:name` on the command line, as in libbpf's `SEC("usdt/PATH:provider:name")`.
///
/// The path may not contain `:`; a path without `/` is resolved by the command that uses it
/// (`usdt trace` looks it up in a process or in `PATH`).
extension ProbeSelector: ExpressibleByArgument {
  public init?(argument: String) {
    self.init(argument)
  }
}

/// `PATH[:provider[:name]]`: a file, and optionally which of its probes.
struct ProbePattern: ExpressibleByArgument, Sendable, CustomStringConvertible {
  var path: String
  /// `nil` matches every provider.
  var provider: String?
  /// `nil` matches every name.
  var name: String?

  init?(argument: String) {
    let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
    guard (1...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else { return nil }
    path = String(parts[0])
    provider = parts.count > 1 ? String(parts[1]) : nil
    name = parts.count > 2 ? String(parts[2]) : nil
  }

  /// Whether `probe` is one this pattern selects.
  func matches(_ probe: Probe) -> Bool {
    (provider == nil || probe.provider == provider) && (name == nil || probe.name == name)
  }

  var description: String { [path, provider, name].compactMap { $0 }.joined(separator: ":") }
}
