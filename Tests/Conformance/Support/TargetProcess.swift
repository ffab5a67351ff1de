import Foundation
import Glibc

/// A running TestTargets program, driven over its stdin/stdout protocol:
/// it prints `ready pid=<pid> …`, then fires on `fire <x>` and answers `fired <x>`.
final class TargetProcess {
  let process = Process()
  private let input = Pipe()
  private let output = Pipe()
  private var buffer: [UInt8] = []
  /// `key=value` pairs of the ready line (`pid`, `bla`, …).
  private(set) var ready: [String: String] = [:]

  var pid: pid_t { process.processIdentifier }

  init(_ path: String, arguments: [String] = []) throws {
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    let line = try readLine()
    guard line.hasPrefix("ready") else { throw ProtocolError(message: "expected ready, got \(line)") }
    for field in line.split(separator: " ").dropFirst() {
      let pair = field.split(separator: "=", maxSplits: 1)
      if pair.count == 2 { ready[String(pair[0])] = String(pair[1]) }
    }
  }

  /// A hexadecimal address the target reported (`bla=0x…`).
  func address(_ key: String) -> UInt64? {
    ready[key].flatMap { UInt64($0.dropFirst(2), radix: 16) }
  }

  /// Fires the target's probes once with `x` and waits until they have run.
  func fire(_ x: Int) throws {
    try run("fire \(x)", expecting: "fired \(x)")
  }

  /// Sends one command and returns its one-line reply, which must start with `prefix`.
  @discardableResult
  func run(_ command: String, expecting prefix: String) throws -> String {
    try send(command + "\n")
    let line = try readLine()
    guard line.hasPrefix(prefix) else { throw ProtocolError(message: "\(command): expected \(prefix)…, got \(line)") }
    return line
  }

  /// The integer after `key=` in a reply line (`child pid=123` → 123 for `pid`).
  static func value(_ key: String, in line: String) -> Int32? {
    line.split(separator: " ").first { $0.hasPrefix(key + "=") }.flatMap { Int32($0.dropFirst(key.count + 1)) }
  }

  func send(_ text: String) throws {
    try input.fileHandleForWriting.write(contentsOf: Data(text.utf8))
  }

  /// Closes stdin and waits for exit; returns the exit status.
  @discardableResult
  func finish() -> Int32 {
    try? input.fileHandleForWriting.close()
    process.waitUntilExit()
    return process.terminationStatus
  }

  deinit {
    if process.isRunning {
      process.terminate()
      process.waitUntilExit()
    }
  }

  private func readLine() throws -> String {
    let fd = output.fileHandleForReading.fileDescriptor
    while true {
      if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
        let line = String(decoding: buffer[..<newline], as: UTF8.self)
        buffer.removeSubrange(...newline)
        return line
      }
      var chunk = [UInt8](repeating: 0, count: 4096)
      let count = read(fd, &chunk, chunk.count)
      guard count > 0 else { throw ProtocolError(message: "target closed its output") }
      buffer.append(contentsOf: chunk[..<count])
    }
  }

  struct ProtocolError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
  }
}
