// Fuzz targets for the parts of the library that read untrusted input: the ELF reader (headers,
// `.note.stapsdt`, symbol tables, address translation) and every architecture's argument grammar.
//
// One executable serves every target; `USDT_FUZZ_TARGET` picks one:
//   elf              ELFFile(bytes:) → ProbeList(file:) → symbolTable(), as `usdt list` reads a file
//   args-<arch>      ArgumentParsing.parse and parseEach on the input as text, for one Architecture
//
// Built two ways (see Fuzz/fuzz.mk):
// - With `-sanitize=fuzzer,address -parse-as-library -D USDT_LIBFUZZER`, libFuzzer supplies `main`
//   and calls `LLVMFuzzerTestOneInput` below.
// - In an ordinary `swift build`, `Replay.main` runs the same function over the files named on
//   the command line, to reproduce a crash without the sanitizers:
//   `USDT_FUZZ_TARGET=elf .build/debug/USDTFuzz crash-1234`.
//
// Besides "never traps", each target checks a few properties the public API promises; a
// violation is reported with `fatalError`, so libFuzzer keeps the input like any crash.

import USDT

#if canImport(Glibc)
  import Glibc
#endif

/// One fuzz target: what to do with one input.
enum FuzzTarget {
  case elf
  case arguments(Architecture)

  /// Every target name `USDT_FUZZ_TARGET` accepts, in the order `make fuzz` runs them.
  static var allNames: [String] {
    ["elf"] + Architecture.allCases.map { "args-\($0.rawValue)" }
  }

  init?(name: String) {
    if name == "elf" {
      self = .elf
    } else if name.hasPrefix("args-"), let architecture = Architecture(rawValue: String(name.dropFirst(5))) {
      self = .arguments(architecture)
    } else {
      return nil
    }
  }

  /// The target named by `USDT_FUZZ_TARGET`; exits with the list of names when it is unset or unknown.
  static let selected: FuzzTarget = {
    let name = getenv("USDT_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget(name: name) else {
      let message = "USDT_FUZZ_TARGET must be one of: \(allNames.joined(separator: " ")) (got \"\(name)\")\n"
      printError(message)
      exit(2)
    }
    return target
  }()

  func run(_ input: [UInt8]) {
    switch self {
    case .elf: ELFTarget.run(input)
    case .arguments(let architecture): ArgumentsTarget.run(input, architecture: architecture)
    }
  }
}

/// Writes `message` to standard error (fd 2; the C `stderr` global is not concurrency-safe).
func printError(_ message: String) {
  var bytes = Array(message.utf8)
  _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

/// Stops the run with a message libFuzzer prints above its stack trace.
func violated(_ property: String, _ detail: @autoclosure () -> String) -> Never {
  fatalError("fuzz property violated: \(property): \(detail())")
}

/// The whole read path of `usdt list`, on an image held in memory.
enum ELFTarget {
  static let label = "fuzz-input.elf"

  static func run(_ input: [UInt8]) {
    let file: ELFFile
    do {
      file = try ELFFile(bytes: input, path: label)
    } catch {
      check(error, "ELFFile(bytes:)")
      return
    }
    let list: ProbeList
    do {
      list = try ProbeList(file: file)
    } catch {
      check(error, "ProbeList(file:)")
      return
    }
    for problem in list.malformedNotes {
      guard problem.kind == .malformedNote else { violated("a note problem is .malformedNote", "\(problem.kind)") }
      check(problem, "malformedNotes")
    }
    let symbols = try? file.symbolTable()
    for probe in list.probes {
      _ = probe.isAttachable
      for problem in probe.problems + probe.unavailableArguments { check(problem, "probe \(probe.qualifiedName)") }
      if let offset = probe.fileOffset, let bytes = try? file.bytes(atFileOffset: offset, count: 1) {
        _ = bytes
      }
      for argument in probe.arguments ?? [] {
        if case .symbol(let name, _) = argument.operand { _ = try? symbols?.address(of: name) }
      }
    }
    for section in file.sections { _ = try? file.contents(of: section) }
  }

  /// Every error the reader throws for this image names it, and its description can be built.
  static func check(_ error: USDTError, _ stage: String) {
    guard error.binary == label else {
      violated("errors name the file", "\(stage) threw without binary: \(error.description)")
    }
    _ = error.description
  }
}

/// One architecture's argument grammar, through both entry points, which must agree.
enum ArgumentsTarget {
  static func run(_ input: [UInt8], architecture: Architecture) {
    let text = String(decoding: input, as: UTF8.self)
    let whole: Result<[ArgumentSpec], USDTError> = Result { () throws(USDTError) in
      try ArgumentParsing.parse(text, architecture: architecture)
    }
    let each: (specs: [ArgumentSpec], unavailable: [USDTError])
    do {
      each = try ArgumentParsing.parseEach(text, architecture: architecture)
    } catch {
      // Only the string as a whole can fail: too many arguments.
      guard error.kind == .unsupportedOperand, error.argument == ArgumentParsing.maxArguments else {
        violated("parseEach throws only for too many arguments", error.description)
      }
      return
    }
    for spec in each.specs where ![1, 2, 4, 8].contains(spec.size) {
      violated("sizes are 1, 2, 4 or 8", "\(spec)")
    }
    for error in each.unavailable where error.argument == nil || error.input == nil {
      violated("an unavailable argument names its index and text", error.description)
    }
    switch whole {
    case .success(let specs):
      guard each.unavailable.isEmpty, each.specs == specs else {
        violated(
          "parse and parseEach agree when every argument parses",
          "parse gave \(specs), parseEach gave \(each.specs) with \(each.unavailable.map(\.description))")
      }
    case .failure(let error):
      guard let first = each.unavailable.first, first.kind == error.kind, first.argument == error.argument else {
        violated(
          "parseEach marks unavailable the argument parse failed on",
          "parse threw \(error.description); parseEach reported \(each.unavailable.map(\.description))")
      }
    }
  }
}

#if USDT_LIBFUZZER
  @_cdecl("LLVMFuzzerTestOneInput")
  public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FuzzTarget.selected.run(input)
    return 0
  }
#else
  /// Runs the selected target over each file named on the command line (a crash reproducer).
  @main
  enum Replay {
    static func main() {
      let target = FuzzTarget.selected
      let paths = CommandLine.arguments.dropFirst()
      guard !paths.isEmpty else {
        printError("usage: USDT_FUZZ_TARGET=<\(FuzzTarget.allNames.joined(separator: "|"))> USDTFuzz FILE...\n")
        exit(2)
      }
      for path in paths {
        guard let input = readFile(path) else {
          printError("cannot read \(path)\n")
          exit(1)
        }
        target.run(input)
        print("\(path): ok (\(input.count) bytes)")
      }
    }

    static func readFile(_ path: String) -> [UInt8]? {
      guard let stream = fopen(path, "rb") else { return nil }
      defer { fclose(stream) }
      var bytes: [UInt8] = []
      var buffer = [UInt8](repeating: 0, count: 65536)
      while true {
        let n = fread(&buffer, 1, buffer.count, stream)
        if n > 0 { bytes += buffer[0..<n] }
        if n < buffer.count { return ferror(stream) == 0 ? bytes : nil }
      }
    }
  }
#endif
