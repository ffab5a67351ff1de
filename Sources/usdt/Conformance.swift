import ArgumentParser
import FoundationEssentials
import Glibc
import USDTConformanceKit

/// `usdt conformance`: grades USDT implementations on the data-driven corpus.
///
/// Every case of Conformance/corpus/*.json runs against every chosen implementation through
/// its adapter (Conformance/ADAPTERS.md); the result is a matrix on stdout, and optionally a
/// JSON and a self-contained HTML report. Exits non-zero when this implementation ("ours", or
/// "ours-…") fails a case; other implementations may fail without failing the run.
struct ConformanceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "conformance",
    abstract: "Run the USDT conformance corpus against this and other implementations.",
    discussion: """
      Implementations are listed in Conformance/adapters/adapters.json (ours, libbpf, bpftrace); \
      --impl NAME=COMMAND grades any other adapter that speaks Conformance/ADAPTERS.md. Needs \
      root (CAP_BPF, CAP_PERFMON) and the built targets (`make targets bpf conformance-adapters`).
      """)

  @Option(
    name: .customLong("impl"), parsing: .upToNextOption,
    help: "Implementations to grade: names from adapters.json, or NAME=COMMAND (default: all listed).")
  var implementations: [String] = []

  @Option(help: "Write the JSON report here.")
  var json: String?

  @Option(help: "Write the self-contained HTML report here.")
  var html: String?

  @Option(help: "The corpus directory (default: Conformance/corpus, found from the current directory up).")
  var corpus: String?

  @Option(help: "Where the targets are built (default: TestTargets/out next to Conformance/).")
  var targets: String?

  @Option(name: .customLong("case"), parsing: .upToNextOption, help: "Only cases whose ID contains one of these.")
  var caseFilters: [String] = []

  @Option(help: "Seconds an adapter may take to attach, and to stop (default 120; a per-site backend needs about 0.1 s per site to detach).")
  var timeout: Double = 120

  @Flag(help: "List the cases and exit.")
  var list = false

  func run() throws {
    signal(SIGPIPE, SIG_IGN)
    let layout = try Layout(corpus: corpus, targets: targets)
    var loaded: Corpus
    do {
      loaded = try Corpus.load(directory: layout.corpus)
    } catch {
      printError("usdt conformance: \(error)")
      throw ExitCode.failure
    }
    var cases = loaded.cases
    if !caseFilters.isEmpty {
      cases = cases.filter { item in caseFilters.contains { item.id.contains($0) } }
      guard !cases.isEmpty else {
        printError("usdt conformance: no case matches \(caseFilters.joined(separator: ", "))")
        throw ExitCode.failure
      }
    }
    if list {
      for item in cases {
        print("\(item.id)  \(item.probe.qualifiedName) in \(item.probeFile), pid \(item.attach.pid.rawValue), \(item.attach.mode.rawValue): \(item.expect.summary)")
      }
      return
    }
    let adapters = try chooseAdapters(layout)

    var environment = ProcessInfo.processInfo.environment
    environment["USDT_TARGETS_DIR"] = layout.targets
    let runner = CaseRunner(targetsDirectory: layout.targets, environment: environment, timeout: timeout)
    let progress = Progress(total: cases.count * adapters.count)
    let start = now()
    var results: [Report.CaseResult] = []
    for item in cases {
      var result = Report.CaseResult(item)
      for adapter in adapters {
        progress.show("\(item.id) × \(adapter.name)")
        let began = now()
        let (outcome, run) = runner.run(item, with: adapter)
        result.results[adapter.name] = item.evaluate(outcome, run: run)
        result.seconds[adapter.name] = ((now() - began) * 1000).rounded() / 1000
        progress.step()
      }
      progress.finished(result, names: adapters.map(\.name))
      results.append(result)
    }
    progress.clear()

    let report = Report(
      generated: Date.now.formatted(.iso8601), host: Self.hostFacts(), seconds: now() - start,
      implementations: adapters.map { .init(name: $0.name, description: $0.description, command: $0.command) },
      cases: results)
    printMatrix(report, colors: isatty(STDOUT_FILENO) == 1)
    if let json {
      try write(try report.json(), to: json)
      print("JSON report: \(json)")
    }
    if let html {
      try write(Data(report.html().utf8), to: html)
      print("HTML report: \(html)")
    }
    // Ours is every implementation called "ours" or "ours-…" (e.g. with its own BPF header).
    let oursFailed = report.totals.contains { name, total in
      (name == "ours" || name.hasPrefix("ours-")) && total.passed != total.cases
    }
    if oursFailed { throw ExitCode.failure }
  }

  /// The adapters to run, from adapters.json and `NAME=COMMAND` arguments.
  private func chooseAdapters(_ layout: Layout) throws -> [AdapterCommand] {
    let registry = try AdapterRegistry.load(layout: layout)
    let requested = implementations.flatMap { $0.split(separator: ",").map(String.init) }
    if requested.isEmpty {
      for adapter in registry where !adapter.missing.isEmpty {
        printError("usdt conformance: leaving out \(adapter.name): \(adapter.missing.joined(separator: ", ")) missing")
      }
      return registry.filter(\.missing.isEmpty)
    }
    return try requested.map { name in
      if let equals = name.firstIndex(of: "=") {
        let command = name[name.index(after: equals)...].split(separator: " ").map(String.init)
        guard !command.isEmpty else { throw ValidationError("--impl \(name): the command is empty") }
        return AdapterCommand(name: String(name[..<equals]), description: "external adapter", command: command)
      }
      guard let found = registry.first(where: { $0.name == name }) else {
        throw ValidationError(
          "no implementation \(name); known: \(registry.map(\.name).joined(separator: ", ")), or pass NAME=COMMAND")
      }
      return found
    }
  }

  private func write(_ data: Data, to path: String) throws {
    if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
      let directory = String(path[..<slash])
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }
    try data.write(to: URL(fileURLWithPath: path))
  }

  static func hostFacts() -> [String: String] {
    var facts: [String: String] = [:]
    var name = utsname()
    if uname(&name) == 0 {
      func text<T>(_ field: T) -> String {
        withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      }
      facts["kernel"] = text(name.release)
      facts["machine"] = text(name.machine)
    }
    return facts
  }
}

/// Where the corpus, adapters and targets are.
struct Layout {
  /// Conformance/corpus (or --corpus).
  var corpus: String
  /// Conformance/ (for adapters.json and the adapters).
  var conformance: String
  /// TestTargets/out (or --targets), absolute.
  var targets: String

  init(corpus: String?, targets: String?) throws {
    var root: String?
    var directory = FileManager.default.currentDirectoryPath
    while true {
      if FileManager.default.fileExists(atPath: directory + "/Conformance/corpus") {
        root = directory
        break
      }
      guard let slash = directory.lastIndex(of: "/"), directory != "/" else { break }
      directory = slash == directory.startIndex ? "/" : String(directory[..<slash])
    }
    guard let base = root ?? corpus.map({ resolvedPath($0 + "/../..") }) else {
      throw ValidationError("cannot find Conformance/corpus from \(FileManager.default.currentDirectoryPath); pass --corpus")
    }
    self.corpus = resolvedPath(corpus ?? base + "/Conformance/corpus")
    conformance = resolvedPath(base + "/Conformance")
    self.targets = resolvedPath(targets ?? base + "/TestTargets/out")
  }
}

/// Conformance/adapters/adapters.json: the implementations `usdt conformance` knows by name.
struct AdapterRegistry: Decodable {
  struct Entry: Decodable {
    var name: String
    var description: String
    var command: [String]
    /// Files that must exist for the implementation to be graded by default (e.g. an optional
    /// BPF object); without them it is left out with a note, unless named with --impl.
    var requires: [String]?
  }
  var implementations: [Entry]

  /// The registry with `{usdt}` (this executable), `{out}` (the targets directory) and
  /// `{conformance}` (the Conformance directory) substituted.
  static func load(layout: Layout) throws -> [AdapterCommand] {
    let path = layout.conformance + "/adapters/adapters.json"
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ValidationError("cannot read \(path)")
    }
    let registry = try JSONDecoder().decode(AdapterRegistry.self, from: data)
    let this = resolvedPath("/proc/self/exe")
    func substitute(_ text: String) -> String {
      text.replacing("{usdt}", with: this).replacing("{out}", with: layout.targets)
        .replacing("{conformance}", with: layout.conformance)
    }
    return registry.implementations.map { entry in
      AdapterCommand(
        name: entry.name, description: entry.description, command: entry.command.map(substitute),
        missing: (entry.requires ?? []).map(substitute).filter { !FileManager.default.fileExists(atPath: $0) })
    }
  }
}
