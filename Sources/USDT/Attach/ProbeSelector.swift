/// A probe by file and name: `binary`, `provider`, `name`.
public struct ProbeSelector: Sendable, Hashable, CustomStringConvertible {
  /// Path of the executable or shared library, as the kernel should resolve it.
  public var binary: String
  public var provider: String
  public var name: String

  public init(binary: String, provider: String, name: String) {
    self.binary = binary
    self.provider = provider
    self.name = name
  }

  /// Parses `path:provider:name` (the path may not contain `:`), as in `SEC("usdt/…")`.
  public init?(_ text: some StringProtocol) {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
    self.init(binary: String(parts[0]), provider: String(parts[1]), name: String(parts[2]))
  }

  /// `provider:name`.
  public var qualifiedName: String { "\(provider):\(name)" }
  public var description: String { "\(binary):\(provider):\(name)" }
}
