import Foundation
import Glibc
import Testing

/// `usdt trace`: the built-in recorder attached to a running target, hits printed as JSON.
@Suite("usdt trace", .serialized, .timeLimit(.minutes(1)))
struct TraceCommandTests {
  /// Root has CAP_BPF and CAP_PERFMON. Without it the test is cancelled with the reason, and
  /// under `USDT_REQUIRE_PRIVILEGED=1` (CI) it fails instead, so it cannot pass by skipping.
  static func requirePrivilege() throws -> Bool {
    guard geteuid() != 0 else { return true }
    let why: Comment = "needs root with CAP_BPF and CAP_PERFMON to attach uprobes"
    if ProcessInfo.processInfo.environment["USDT_REQUIRE_PRIVILEGED"] == "1" {
      Issue.record("USDT_REQUIRE_PRIVILEGED=1, but this test \(why)")
      return false
    }
    try Test.cancel(why)
  }

  @Test("prints each hit of test:usdt3 in one process, then stops at --count")
  func tracesUSDT3() throws {
    guard try Self.requirePrivilege() else { return }
    let target = try Child(CheckCommandTests.target("basic-gcc-O0"), [])
    defer { target.stop() }
    let ready = try target.readLine(from: .output)
    let fields = Dictionary(
      ready.split(separator: " ").dropFirst().compactMap { field -> (String, String)? in
        let pair = field.split(separator: "=", maxSplits: 1)
        return pair.count == 2 ? (String(pair[0]), String(pair[1])) : nil
      }, uniquingKeysWith: { first, _ in first })
    let pid = try #require(fields["pid"].flatMap { Int32($0) }, "ready line: \(ready)")
    let bla = try #require(fields["bla"].flatMap { UInt64($0.dropFirst(2), radix: 16) }, "ready line: \(ready)")

    let trace = try Child(
      try usdtBinary(),
      ["trace", "\(target.path):test:usdt3", "-p", "\(pid)", "--count", "2", "--json"])
    defer { trace.stop() }
    // The readiness line comes once every site is attached (and its semaphore counted).
    var line = try trace.readLine(from: .error)
    while !line.hasPrefix("usdt: tracing") {
      line = try trace.readLine(from: .error)
    }
    #expect(line.contains("test:usdt3") && line.contains("2 sites"))

    for x in [1, 2] {
      try target.send("fire \(x)\n")
      #expect(try target.readLine(from: .output) == "fired \(x)")
    }
    let hits = try (0..<2).map { _ in
      try #require(
        try JSONSerialization.jsonObject(with: Data(trace.readLine(from: .output).utf8)) as? [String: Any])
    }
    #expect(trace.wait() == 0, "--count 2 ends the trace")

    for (hit, x) in zip(hits, [1, 2]) {
      #expect(hit["probe"] as? String == "test:usdt3")
      #expect(hit["pid"] as? Int == Int(pid))
      let args = try #require(hit["args"] as? [NSNumber])
      #expect(args.map(\.int64Value).prefix(2) == [Int64(x), 42])
      #expect(args.count == 3 && args[2].uint64Value == bla, "the third argument is &bla")
      #expect((hit["unavailable"] as? [Any])?.isEmpty == true)
    }
    // Odd x fires site A, even x site B: two different sites.
    #expect(hits[0]["address"] as? Int != hits[1]["address"] as? Int)
  }

  @Test("a missing probe is an error that names it, before anything needs privilege")
  func missingProbe() throws {
    let result = try runCapturing(
      usdtBinary(), ["trace", CheckCommandTests.target("basic-gcc-O0") + ":test:nope", "--timeout", "1"])
    #expect(result.status != 0)
    #expect(result.error.contains("test:nope") && result.error.contains("no such probe"))
  }

  @Test("a missing file is an error that names it")
  func missingFile() throws {
    let result = try runCapturing(usdtBinary(), ["trace", "/nonexistent/app:test:usdt3", "--timeout", "1"])
    #expect(result.status != 0)
    #expect(result.error.contains("/nonexistent/app"))
  }
}

/// A child process with pipes on stdin, stdout and stderr, read line by line with a deadline.
final class Child {
  enum Stream { case output, error }

  let path: String
  private let process = Process()
  private let input = Pipe()
  private let output = Pipe()
  private let error = Pipe()
  private var buffers: [UInt8: [UInt8]] = [:]

  init(_ path: String, _ arguments: [String]) throws {
    self.path = path
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardInput = input
    process.standardOutput = output
    process.standardError = error
    try process.run()
  }

  func send(_ text: String) throws {
    try input.fileHandleForWriting.write(contentsOf: Data(text.utf8))
  }

  /// The next line of `stream`, without its newline; throws after `timeout` seconds or at EOF.
  func readLine(from stream: Stream, timeout: Double = 20) throws -> String {
    let fd = (stream == .output ? output : error).fileHandleForReading.fileDescriptor
    let key: UInt8 = stream == .output ? 1 : 2
    let deadline = Date().addingTimeInterval(timeout)
    while true {
      var buffer = buffers[key] ?? []
      if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
        let line = String(decoding: buffer[..<newline], as: UTF8.self)
        buffer.removeSubrange(...newline)
        buffers[key] = buffer
        return line
      }
      let remaining = deadline.timeIntervalSinceNow
      guard remaining > 0 else {
        throw CLIError(message: "\(path): no line on std\(stream == .output ? "out" : "err") in \(timeout) s")
      }
      var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      guard poll(&descriptor, 1, Int32(min(remaining, 1) * 1000)) > 0 else { continue }
      var chunk = [UInt8](repeating: 0, count: 4096)
      let count = read(fd, &chunk, chunk.count)
      guard count > 0 else {
        let rest = String(decoding: buffer, as: UTF8.self)
        throw CLIError(message: "\(path) closed std\(stream == .output ? "out" : "err")\(rest.isEmpty ? "" : ": " + rest)")
      }
      buffer.append(contentsOf: chunk[..<count])
      buffers[key] = buffer
    }
  }

  /// Waits for the exit; returns the status.
  func wait() -> Int32 {
    process.waitUntilExit()
    return process.terminationStatus
  }

  /// Closes stdin and ends the process if it still runs.
  func stop() {
    try? input.fileHandleForWriting.close()
    if process.isRunning { process.interrupt() }
    process.waitUntilExit()
  }
}
