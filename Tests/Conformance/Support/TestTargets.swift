import Foundation
import Testing

/// Paths of the binaries and BPF objects that `make targets bpf` builds into TestTargets/out.
enum TestTargets {
  static let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let out = root.appendingPathComponent("TestTargets/out")

  /// The built file `name`; fails the test with what to run when it is missing.
  static func path(_ name: String) throws -> String {
    let path = out.appendingPathComponent(name).path
    guard FileManager.default.fileExists(atPath: path) else {
      throw MissingTarget(path: path)
    }
    return path
  }

  struct MissingTarget: Error, CustomStringConvertible {
    var path: String
    var description: String { "\(path) is missing: run `make targets bpf` first" }
  }
}
