import FoundationEssentials

/// The result of one `usdt conformance` run: every case × implementation, as written to the
/// JSON report and rendered into the HTML one.
public struct Report: Codable, Sendable {
  /// One implementation that was graded.
  public struct Implementation: Codable, Sendable {
    public var name: String
    public var description: String
    public var command: [String]
    public init(name: String, description: String, command: [String]) {
      self.name = name
      self.description = description
      self.command = command
    }
  }

  /// One case and its verdict for each implementation (keyed by implementation name).
  public struct CaseResult: Codable, Sendable {
    public var id: String
    public var suite: String
    public var probe: String
    public var file: String
    public var target: String
    public var pid: String
    public var mode: String
    public var cookie: FlexibleUInt64
    public var expected: String
    public var note: String?
    public var results: [String: Verdict]
    /// Seconds each implementation took (spawn to verdict).
    public var seconds: [String: Double]

    public init(_ item: Case, results: [String: Verdict] = [:], seconds: [String: Double] = [:]) {
      id = item.id
      suite = item.suite
      probe = item.probe.qualifiedName
      file = item.probeFile
      target = ([item.target.binary] + item.target.commands.map { "«\($0)»" }).joined(separator: " ")
      pid = item.attach.pid.rawValue
      mode = item.attach.mode.rawValue
      cookie = FlexibleUInt64(item.attach.cookie)
      expected = item.expect.summary
      note = item.note
      self.results = results
      self.seconds = seconds
    }
  }

  /// Counts per status for one implementation.
  public struct Totals: Codable, Sendable, Equatable {
    public var cases = 0
    public var counts: [String: Int] = [:]
    public init() {}
    public func count(_ status: Verdict.Status) -> Int { counts[status.rawValue, default: 0] }
    public var passed: Int { count(.pass) }
  }

  public var generated: String
  public var host: [String: String]
  public var seconds: Double
  public var implementations: [Implementation]
  public var cases: [CaseResult]
  public var totals: [String: Totals]

  public init(
    generated: String, host: [String: String], seconds: Double, implementations: [Implementation],
    cases: [CaseResult]
  ) {
    self.generated = generated
    self.host = host
    self.seconds = seconds
    self.implementations = implementations
    self.cases = cases
    totals = Report.totals(cases: cases, implementations: implementations.map(\.name))
  }

  static func totals(cases: [CaseResult], implementations: [String]) -> [String: Totals] {
    var totals: [String: Totals] = [:]
    for name in implementations {
      var total = Totals()
      for item in cases {
        guard let verdict = item.results[name] else { continue }
        total.cases += 1
        total.counts[verdict.status.rawValue, default: 0] += 1
      }
      totals[name] = total
    }
    return totals
  }

  /// The JSON report, keys sorted, pretty-printed.
  public func json() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(self)
  }
}

extension Expectation {
  /// One line for reports: "2 hits", "400 hits, each [400], sum arg0 160000", "refused".
  public var summary: String {
    if expectsRefusal { return "refused" }
    var parts = ["\(expectedCount ?? 0) hit\(expectedCount == 1 ? "" : "s")"]
    if let hits, !hits.isEmpty {
      parts.append(hits.map { "[" + $0.args.map(\.description).joined(separator: ", ") + "]" }.joined(separator: " "))
    }
    if let each { parts.append("each [" + each.args.map(\.description).joined(separator: ", ") + "]") }
    if let sums {
      for (index, sum) in sums.enumerated() {
        if let sum { parts.append("sum arg\(index) \(formatInteger(sum.value))") }
      }
    }
    return parts.joined(separator: ", ")
  }
}
