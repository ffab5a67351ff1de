import Foundation
import Testing

@testable import USDT

/// Inputs on which `make fuzz` found a trap, kept in `Fixtures/malformed/fuzz-crashes/` as found.
///
/// Each is run through the same calls as its fuzz target (`Fuzz/USDTFuzz/USDTFuzz.swift`) in a
/// child process (an exit test), so an input that still traps fails its test instead of taking
/// the whole test run down with it. A file's name starts with its target: `elf-…`, or
/// `args-<architecture>-…`.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
  static let directory = "Fixtures/malformed/fuzz-crashes"

  /// The regression inputs; an empty or missing directory is an error, never an empty pass.
  static func inputs() throws -> [String] {
    guard let url = Bundle.module.url(forResource: "fuzz-crashes", withExtension: nil, subdirectory: "Fixtures/malformed")
    else { throw MalformedCorpus.LoadError(description: "\(directory) is not in the test bundle") }
    let names = try FileManager.default.contentsOfDirectory(atPath: url.path).filter { !$0.hasPrefix(".") }.sorted()
    guard !names.isEmpty else { throw MalformedCorpus.LoadError(description: "\(directory) is empty") }
    return names
  }

  @Test(arguments: try inputs())
  func doesNotTrap(_ name: String) async throws {
    #expect(FuzzReplay.target(of: name) != nil, "\(name) does not start with elf- or args-<architecture>-")
    await #expect(processExitsWith: .success, "\(name) traps") { [name] in
      try FuzzReplay.run(name)
    }
  }

  /// Every file of the malformed corpus, through everything the `elf` fuzz target calls
  /// (symbol tables included, which `ProbeList` does not read), in one child process.
  @Test func corpusDoesNotTrap() async throws {
    await #expect(processExitsWith: .success) {
      let manifest = try MalformedCorpus.path(of: "manifest.json")
      let directory = (manifest as NSString).deletingLastPathComponent
      for file in try MalformedCorpus.fileCases().compactMap(\.file) {
        FuzzReplay.runELF(Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file))), path: file)
      }
    }
  }
}

/// The calls of the fuzz targets, for replaying an input in a test.
enum FuzzReplay {
  enum Target: Equatable {
    case elf
    case arguments(Architecture)
  }

  static func target(of name: String) -> Target? {
    if name.hasPrefix("elf-") { return .elf }
    return Architecture.allCases.first { name.hasPrefix("args-\($0.rawValue)-") }.map { .arguments($0) }
  }

  static func run(_ name: String) throws {
    let url = try #require(
      Bundle.module.url(forResource: name, withExtension: nil, subdirectory: FuzzRegressionTests.directory))
    let bytes = Array(try Data(contentsOf: url))
    switch target(of: name) {
    case .elf: runELF(bytes, path: url.path)
    case .arguments(let architecture):
      let text = String(decoding: bytes, as: UTF8.self)
      _ = try? ArgumentParsing.parse(text, architecture: architecture)
      _ = try? ArgumentParsing.parseEach(text, architecture: architecture)
    case nil: break
    }
  }

  /// What the `elf` target does: read, list, translate, parse, look up symbols, read sections.
  static func runELF(_ bytes: [UInt8], path: String) {
    guard let file = try? ELFFile(bytes: bytes, path: path) else { return }
    let list = try? ProbeList(file: file)
    let symbols = try? file.symbolTable()
    for probe in list?.probes ?? [] {
      for argument in probe.arguments ?? [] {
        if case .symbol(let name, _) = argument.operand { _ = try? symbols?.address(of: name) }
      }
      _ = probe.problems.map(\.description)
    }
    for section in file.sections { _ = try? file.contents(of: section) }
  }
}
