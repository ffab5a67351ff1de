import Foundation
import Testing
import USDT
import USDTConformanceKit

/// The conformance corpus (Conformance/corpus/*.json) as data: it parses, every case names a
/// built target and a probe that file really has, every case says what it expects, and the
/// loader refuses an empty corpus instead of passing it.
@Suite("conformance corpus")
struct CorpusTests {
  static let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let corpusDirectory = root.appendingPathComponent("Conformance/corpus").path
  static let targets = root.appendingPathComponent("TestTargets/out").path

  static func corpus() throws -> Corpus { try Corpus.load(directory: corpusDirectory) }

  /// Every case, by ID, for the tables below.
  static let cases: [Case] = (try? corpus().cases) ?? []

  @Test("every corpus file parses and has cases")
  func parses() throws {
    let corpus = try Self.corpus()
    let files = try FileManager.default.contentsOfDirectory(atPath: Self.corpusDirectory).filter { $0.hasSuffix(".json") }
    #expect(corpus.suites.count == files.count)
    for suite in corpus.suites { #expect(!suite.cases.isEmpty, "suite \(suite.suite) has cases") }
    for required in ["basic", "urandom", "multispec", "optimized", "pidfilter"] {
      #expect(corpus.suites.contains { $0.suite == required }, "the corpus covers \(required)")
    }
  }

  @Test("the case names a built target and a probe its file has", arguments: cases.map(\.id))
  func referencesTarget(_ id: String) throws {
    let item = try #require(Self.cases.first { $0.id == id })
    let binary = Self.targets + "/" + item.target.binary
    try #require(FileManager.default.isExecutableFile(atPath: binary), "\(binary) exists (make targets)")
    #expect(!item.target.commands.isEmpty, "the case drives its target")
    let file = Self.targets + "/" + item.probeFile
    let sites = try ProbeList(path: file).sites(provider: item.probe.provider, name: item.probe.name)
    #expect(!sites.isEmpty, "\(item.probe.qualifiedName) is in \(item.probeFile)")
    // Each expected hit lists as many arguments as the probe's notes have.
    let arity = Set(sites.map { $0.note.arguments.split(separator: " ").count })
    for pattern in (item.expect.hits ?? []) + (item.expect.each.map { [$0] } ?? []) {
      #expect(arity == [pattern.args.count], "\(pattern.args.count) expected arguments, the notes have \(arity)")
    }
  }

  @Test("the case says what it expects", arguments: cases.map(\.id))
  func hasExpectations(_ id: String) throws {
    let item = try #require(Self.cases.first { $0.id == id })
    if item.expect.expectsRefusal { return }
    let count = try #require(item.expect.expectedCount)
    #expect(count > 0, "a case that expects no hit cannot tell a broken attach from a quiet probe")
    #expect(item.expect.hits != nil || item.expect.each != nil || item.expect.sums != nil, "values are checked")
  }

  @Test("an empty corpus is an error, never a pass")
  func emptyCorpusFails() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corpus-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let error = try #require(throws: CorpusError.self) { try Corpus.load(directory: directory.path) }
    #expect(error.message.contains("no conformance cases"))

    // A file whose suite has no cases is just as empty.
    try Data(#"{"suite": "empty", "cases": []}"#.utf8).write(to: directory.appendingPathComponent("empty.json"))
    #expect(throws: CorpusError.self) { try Corpus.load(directory: directory.path) }
  }

  @Test(
    "the loader rejects a malformed case",
    arguments: [
      #"{"suite": "s", "cases": [{"name": "x", "target": {"binary": "/abs", "commands": ["fire 1"]}, "probe": {"provider": "p", "name": "n"}, "attach": {"pid": "all"}, "expect": {"count": 1, "sums": [1]}}]}"#,
      #"{"suite": "s", "cases": [{"name": "x", "target": {"binary": "t", "commands": ["fire 1"]}, "probe": {"provider": "p", "name": "n"}, "attach": {"pid": "all"}, "expect": {}}]}"#,
      #"{"suite": "s", "cases": [{"name": "x", "target": {"binary": "t", "commands": ["fire 1"]}, "probe": {"provider": "p", "name": "n"}, "attach": {"pid": "all"}, "expect": {"count": 2, "hits": [{"args": []}]}}]}"#,
      #"{"suite": "s", "cases": [{"name": "x", "target": {"binary": "t", "commands": ["fire 1"]}, "probe": {"provider": "p", "name": "n"}, "attach": {"pid": "some"}, "expect": {"count": 1, "sums": [1]}}]}"#,
      #"{"suite": "s", "cases": [{"name": "x", "target": {"binary": "t", "commands": ["fire 1"]}, "probe": {"provider": "p", "name": "n"}, "attach": {"pid": "all"}, "expect": {"hits": [{"args": ["bogus"]}]}}]}"#,
    ])
  func rejectsMalformed(_ json: String) {
    #expect(throws: CorpusError.self) { try Suite.parse(Data(json.utf8), file: "test.json") }
  }
}

/// Grading: an adapter's hits against a case's expectation.
@Suite("conformance grading")
struct GradingTests {
  static func basicCase(pid: AttachSpec.PIDMode = .child, cookie: UInt64 = 0) throws -> Case {
    let json = """
      {"suite": "t", "cases": [{"name": "usdt3", "target": {"binary": "basic-gcc-O0", "commands": ["fire 1", "fire 2"]},
        "probe": {"provider": "test", "name": "usdt3"}, "attach": {"pid": "\(pid.rawValue)", "cookie": \(cookie)},
        "expect": {"hits": [{"args": [1, 42, {"ready": "bla"}]}, {"args": [2, {"one_of": [42, "unavailable"]}, {"ready": "bla"}]}]}}]}
      """
    return try #require(try Suite.parse(Data(json.utf8), file: "t.json").cases.first)
  }

  static let run = TargetRun(ready: ["pid": "100", "bla": "0xfedc000000001000"], pid: 100, pids: [])
  static func hit(_ args: [ObservedValue], pid: Int32 = 100, cookie: UInt64? = 0) -> ObservedHit {
    ObservedHit(pid: pid, args: args, cookie: cookie)
  }
  static let bla = ObservedValue.integer(0xfedc_0000_0000_1000)

  @Test("matching hits pass, in any order, with a ready reference and a one_of")
  func passes() throws {
    let item = try Self.basicCase()
    let hits = [Self.hit([.integer(2), .unavailable, Self.bla]), Self.hit([.integer(1), .integer(42), Self.bla])]
    #expect(item.evaluate(.hits(hits), run: Self.run) == Verdict(.pass, hits: 2))
  }

  @Test("the first difference is named")
  func wrongValue() throws {
    let item = try Self.basicCase()
    let hits = [Self.hit([.integer(1), .integer(43), Self.bla]), Self.hit([.integer(2), .integer(42), Self.bla])]
    let verdict = item.evaluate(.hits(hits), run: Self.run)
    #expect(verdict.status == .wrong)
    #expect(verdict.detail == "hit 1: arg1: expected 42, got 43")
  }

  @Test("counts, cookies and the pid filter")
  func countsCookiesPIDs() throws {
    let item = try Self.basicCase(cookie: 7)
    let good = [Self.hit([.integer(1), .integer(42), Self.bla], cookie: 7), Self.hit([.integer(2), .integer(42), Self.bla], cookie: 7)]
    #expect(item.evaluate(.hits(good), run: Self.run).status == .pass)
    #expect(item.evaluate(.hits(Array(good.prefix(1))), run: Self.run).detail == "expected 2 hits, got 1")
    let wrongCookie = good.map { ObservedHit(pid: $0.pid, args: $0.args, cookie: 8) }
    #expect(item.evaluate(.hits(wrongCookie), run: Self.run).detail?.contains("cookie: expected 7, got 8") == true)
    // An implementation without cookies reports null: not graded.
    let noCookies = good.map { ObservedHit(pid: $0.pid, args: $0.args, cookie: nil) }
    #expect(item.evaluate(.hits(noCookies), run: Self.run).status == .pass)
    // A stray process gets through a pid filter: wrong. In `all` mode it is ignored.
    let stray = good + [Self.hit([.integer(9), .integer(42), Self.bla], pid: 555, cookie: 7)]
    #expect(item.evaluate(.hits(stray), run: Self.run).status == .wrong)
    #expect(try Self.basicCase(pid: .all, cookie: 7).evaluate(.hits(stray), run: Self.run).status == .pass)
  }

  @Test("refusals, crashes and expected refusals")
  func outcomes() throws {
    let item = try Self.basicCase()
    #expect(item.evaluate(.refused("EINVAL"), run: Self.run) == Verdict(.refused, "EINVAL"))
    #expect(item.evaluate(.crashed("signal 11"), run: Self.run).status == .crashed)
    #expect(item.evaluate(.unsupported("no cookies"), run: Self.run).status == .unsupported)
    var refusal = item
    refusal.expect = Expectation(refused: true)
    #expect(refusal.evaluate(.refused("ENOTSUP"), run: Self.run).status == .pass)
    #expect(refusal.evaluate(.hits([]), run: Self.run).status == .wrong)
  }

  @Test("sums and each, with floats compared by value")
  func summaries() throws {
    let json = """
      {"suite": "t", "cases": [{"name": "400", "target": {"binary": "multispec", "commands": ["fire400"]},
        "probe": {"provider": "test", "name": "usdt_400"}, "attach": {"pid": "all"},
        "expect": {"count": 3, "each": {"args": [400, {"float": 2}, -1.5]}, "sums": [1200]}}]}
      """
    let item = try #require(try Suite.parse(Data(json.utf8), file: "t.json").cases.first)
    let hit = Self.hit([.integer(400), .integer(2), .float(-1.5)])
    #expect(item.evaluate(.hits([hit, hit, hit]), run: Self.run).status == .pass)
    let off = Self.hit([.integer(400), .float(2.5), .float(-1.5)])
    #expect(item.evaluate(.hits([hit, off, hit]), run: Self.run).detail == "hit 2: arg1: expected 2.0, got 2.5")
  }

  @Test("the HTML report is self-contained")
  func htmlReport() throws {
    let item = try Self.basicCase()
    let report = Report(
      generated: "now", host: ["kernel": "6.18"], seconds: 1.25,
      implementations: [.init(name: "ours", description: "d", command: ["usdt", "adapter"])],
      cases: [Report.CaseResult(item, results: ["ours": Verdict(.wrong, "arg1 <42>")])])
    let html = report.html()
    #expect(html.hasPrefix("<!DOCTYPE html>"))
    #expect(html.contains("arg1 &lt;42&gt;"))
    #expect(!html.contains("<script") && !html.contains("<link") && !html.contains("http"))
    #expect(report.totals["ours"]?.count(.wrong) == 1)
    let decoded = try JSONDecoder().decode(Report.self, from: try report.json())
    #expect(decoded.cases.first?.results["ours"] == Verdict(.wrong, "arg1 <42>"))
  }
}
