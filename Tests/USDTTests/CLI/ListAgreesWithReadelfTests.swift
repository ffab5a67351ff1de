import Foundation
import Testing

/// `usdt list --json` must agree with `readelf -n` on every note: our TestTargets and Debian
/// binaries that carry USDT notes (Python, PostgreSQL, the JVM, libstdc++).
@Suite("usdt list agrees with readelf -n")
struct ListAgreesWithReadelfTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  static let candidates = [
    "TestTargets/out/basic-gcc-O0", "TestTargets/out/basic-gcc-O2", "TestTargets/out/basic-clang-O2",
    "/usr/bin/python3.11", "/usr/lib/postgresql/15/bin/postgres",
    "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
    "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so",
  ]

  /// Only files present here; at least the TestTargets must be (run `make targets`).
  static var files: [String] {
    candidates.map { $0.hasPrefix("/") ? $0 : root.appendingPathComponent($0).path }
      .filter { FileManager.default.fileExists(atPath: $0) }
  }

  struct Note: Equatable, CustomStringConvertible {
    var provider, name: String
    var pc, base, semaphore: UInt64
    var args: String
    var description: String { "\(provider):\(name)@\(String(pc, radix: 16)) [\(args)]" }
  }

  @Test("TestTargets are built") func targetsPresent() {
    #expect(Self.files.filter { $0.contains("TestTargets") }.count == 3, "run `make targets`")
  }

  @Test("every note matches", arguments: files)
  func agrees(path: String) throws {
    let expected = try readelfNotes(path)
    #expect(!expected.isEmpty)
    let listing = try run(usdtBinary(), ["list", "--json", path])
    let object = try #require(try JSONSerialization.jsonObject(with: Data(listing.utf8)) as? [String: Any])
    #expect(object["arch"] as? String == "x86_64")
    #expect(object["elf_class"] as? Int == 64)
    #expect(object["endianness"] as? String == "little")
    let probes = try #require(object["probes"] as? [[String: Any]])
    let actual = probes.map { probe in
      Note(
        provider: probe["provider"] as? String ?? "", name: probe["name"] as? String ?? "",
        pc: (probe["pc"] as? NSNumber)?.uint64Value ?? 0,
        base: (probe["base"] as? NSNumber)?.uint64Value ?? 0,
        semaphore: (probe["semaphore"] as? NSNumber)?.uint64Value ?? 0,
        args: probe["args"] as? String ?? "")
    }
    #expect(actual.count == expected.count)
    for (ours, theirs) in zip(actual, expected) where ours != theirs {
      Issue.record("usdt: \(ours) readelf: \(theirs)")
    }
    // Every argument's raw fields are reported, one entry per argument of the string.
    for probe in probes {
      let args = probe["args"] as? String ?? ""
      let arguments = probe["arguments"] as? [[String: Any]] ?? []
      if probe["attachable"] as? Bool == true {
        #expect(arguments.count == args.split(separator: " ").count, "\(args)")
      }
    }
  }

  private func readelfNotes(_ path: String) throws -> [Note] {
    let text = try run("/usr/bin/readelf", ["-n", path])
    var notes: [Note] = []
    var current: Note?
    func hexValue(_ field: Substring) -> UInt64 {
      UInt64(field.split(separator: ":").last?.trimmingCharacters(in: .whitespaces).dropFirst(2) ?? "", radix: 16) ?? 0
    }
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.hasPrefix("Provider: ") {
        if let note = current { notes.append(note) }
        current = Note(provider: String(trimmed.dropFirst(10)), name: "", pc: 0, base: 0, semaphore: 0, args: "")
      } else if trimmed.hasPrefix("Name: ") {
        current?.name = String(trimmed.dropFirst(6))
      } else if trimmed.hasPrefix("Location: ") {
        let fields = trimmed.split(separator: ",")
        current?.pc = hexValue(fields[0])
        current?.base = hexValue(fields[1])
        current?.semaphore = hexValue(fields[2])
      } else if line.hasPrefix("    Arguments:") {
        current?.args = String(line.dropFirst("    Arguments:".count)).trimmingCharacters(in: .whitespaces)
      }
    }
    if let note = current { notes.append(note) }
    return notes
  }
}

/// The `usdt` executable built next to the test bundle.
func usdtBinary() throws -> String {
  let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  for directory in [bundleDirectory, ListAgreesWithReadelfTests.root.appendingPathComponent(".build/debug")] {
    let candidate = directory.appendingPathComponent("usdt").path
    if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
  }
  throw CLIError(message: "the usdt executable is not built; run `swift build` first")
}

struct CLIError: Error, CustomStringConvertible {
  var message: String
  var description: String { message }
}

/// Runs a program and returns its standard output; fails on a non-zero exit.
func run(_ executable: String, _ arguments: [String]) throws -> String {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  let output = Pipe()
  process.standardOutput = output
  try process.run()
  let data = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  guard process.terminationStatus == 0 else {
    throw CLIError(message: "\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
  }
  return String(decoding: data, as: UTF8.self)
}
