import FoundationEssentials

// The conformance corpus, in order of use:
//  1. `Corpus.load(directory:)` reads every `*.json` file of Conformance/corpus: one suite per
//     file, each a list of cases (target, probe, attach, expected hits);
//  2. the harness (`usdt conformance`) runs each case against each implementation through its
//     adapter (Conformance/ADAPTERS.md) and gets an ``AdapterOutcome``;
//  3. ``Case/evaluate(_:run:)`` compares the outcome with the case's ``Expectation`` and gives a
//     ``Verdict``; the verdicts make a ``Report`` (JSON and HTML).
// The corpus is data so that any USDT implementation can be graded on it, not only this one.

/// Every suite of the conformance corpus.
public struct Corpus: Sendable {
  /// The suites, one per file, in file-name order.
  public var suites: [Suite]

  /// Every case of every suite, in order.
  public var cases: [Case] { suites.flatMap(\.cases) }

  public init(suites: [Suite]) { self.suites = suites }

  /// Reads every `*.json` file in `directory` as a ``Suite``.
  ///
  /// - Throws: ``CorpusError`` when the directory cannot be read, a file does not parse (with
  ///   the file and the decoder's reason), a case is invalid, two cases share an ID, or there are
  ///   no cases at all: an empty corpus grades nothing, so it is an error, never a pass.
  public static func load(directory: String) throws(CorpusError) -> Corpus {
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: directory)
    } catch {
      throw CorpusError(file: directory, message: "cannot read the corpus directory: \(error)")
    }
    var suites: [Suite] = []
    for name in names.sorted() where name.hasSuffix(".json") {
      let path = directory + "/" + name
      guard let data = FileManager.default.contents(atPath: path) else {
        throw CorpusError(file: path, message: "cannot read the file")
      }
      suites.append(try Suite.parse(data, file: path))
    }
    let corpus = Corpus(suites: suites)
    try corpus.validate(source: directory)
    return corpus
  }

  /// Checks the whole corpus: at least one case, and unique IDs.
  public func validate(source: String) throws(CorpusError) {
    guard !cases.isEmpty else {
      throw CorpusError(file: source, message: "no conformance cases found (expected Conformance/corpus/*.json)")
    }
    var seen: Set<String> = []
    for item in cases where !seen.insert(item.id).inserted {
      throw CorpusError(file: source, message: "two cases are called \(item.id)")
    }
  }
}

/// A corpus file that cannot be used, with the file and what is wrong.
public struct CorpusError: Error, Sendable, CustomStringConvertible {
  public var file: String
  public var message: String
  public init(file: String, message: String) {
    self.file = file
    self.message = message
  }
  public var description: String { "\(file): \(message)" }
}

/// One corpus file: a named group of cases, usually mirroring one kernel selftest.
public struct Suite: Codable, Sendable {
  /// Short name; each case's ID is `suite/name`.
  public var suite: String
  /// What the suite mirrors (e.g. the kernel selftest it comes from).
  public var source: String?
  public var cases: [Case]

  /// Decodes a suite and checks each case.
  public static func parse(_ data: Data, file: String) throws(CorpusError) -> Suite {
    var suite: Suite
    do {
      suite = try JSONDecoder().decode(Suite.self, from: data)
    } catch {
      throw CorpusError(file: file, message: "does not parse: \(error)")
    }
    for index in suite.cases.indices {
      suite.cases[index].suite = suite.suite
      do throws(CorpusError) {
        try suite.cases[index].validate()
      } catch {
        throw CorpusError(file: file, message: error.message)
      }
    }
    return suite
  }
}

/// One conformance case: start a target, attach to one probe, drive the target, expect hits.
public struct Case: Codable, Sendable {
  /// Unique within its suite.
  public var name: String
  /// The suite it belongs to (set by the loader).
  public var suite: String = ""
  public var target: TargetSpec
  public var probe: ProbeSpec
  public var attach: AttachSpec
  public var expect: Expectation
  /// Why the case exists, or what it checks beyond the obvious.
  public var note: String?

  /// `suite/name`.
  public var id: String { suite.isEmpty ? name : "\(suite)/\(name)" }

  enum CodingKeys: String, CodingKey { case name, target, probe, attach, expect, note }

  /// The file that holds the probe, relative to the targets directory.
  public var probeFile: String { probe.file ?? target.binary }

  func validate() throws(CorpusError) {
    func fail(_ message: String) -> CorpusError { CorpusError(file: "", message: "case \(name): \(message)") }
    if name.isEmpty { throw fail("has no name") }
    if target.binary.isEmpty || target.binary.hasPrefix("/") {
      throw fail("target.binary must be a path relative to the targets directory")
    }
    if probe.provider.isEmpty || probe.name.isEmpty { throw fail("probe needs a provider and a name") }
    try expect.validate(case: name)
  }
}

/// Which TestTargets program to run and what to send it once the probe is attached.
public struct TargetSpec: Codable, Sendable {
  /// The executable, relative to the targets directory (TestTargets/out).
  public var binary: String
  /// Lines sent to the target's stdin, one at a time, each waiting for its one-line reply.
  public var commands: [String]
}

/// The probe to attach: `provider:name` in the target binary or in another file (a library).
public struct ProbeSpec: Codable, Sendable {
  public var provider: String
  public var name: String
  /// The ELF file that holds the probe, relative to the targets directory; the target binary
  /// when absent.
  public var file: String?

  public var qualifiedName: String { "\(provider):\(name)" }
}

/// Which processes an attach covers, how specs are found, and the cookie.
public struct AttachSpec: Codable, Sendable {
  public enum PIDMode: String, Codable, Sendable {
    /// Only the target process (its pid is passed to the adapter).
    case child
    /// Every process (pid −1); only hits from the target's processes are graded.
    case all
  }
  public enum SpecLookup: String, Codable, Sendable {
    /// Whatever the implementation does normally (BPF cookies on any recent kernel).
    case cookie
    /// libbpf's fallback for kernels without BPF cookies: spec IDs found by IP.
    case noCookie = "no-cookie"
  }
  public var pid: PIDMode
  public var mode: SpecLookup
  /// What `bpf_usdt_cookie()` must return; 0 when absent.
  public var cookie: UInt64

  enum CodingKeys: String, CodingKey { case pid, mode, cookie }

  public init(pid: PIDMode, mode: SpecLookup = .cookie, cookie: UInt64 = 0) {
    self.pid = pid
    self.mode = mode
    self.cookie = cookie
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    pid = try container.decode(PIDMode.self, forKey: .pid)
    mode = try container.decodeIfPresent(SpecLookup.self, forKey: .mode) ?? .cookie
    cookie = try container.decodeIfPresent(FlexibleUInt64.self, forKey: .cookie)?.value ?? 0
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(pid, forKey: .pid)
    try container.encode(mode, forKey: .mode)
    try container.encode(FlexibleUInt64(cookie), forKey: .cookie)
  }
}

/// A 64-bit value written as a JSON number (signed or unsigned) or a `"0x…"` string; encoded
/// as a number when it fits an `Int64`, else as a hex string.
public struct FlexibleUInt64: Codable, Sendable, Equatable {
  public var value: UInt64
  public init(_ value: UInt64) { self.value = value }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if let signed = try? container.decode(Int64.self) {
      value = UInt64(bitPattern: signed)
    } else if let unsigned = try? container.decode(UInt64.self) {
      value = unsigned
    } else {
      let text = try container.decode(String.self)
      guard let parsed = parseInteger(text) else {
        throw DecodingError.dataCorruptedError(
          in: container, debugDescription: "\(text) is not an integer (decimal or 0x…)")
      }
      value = parsed
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    if value <= UInt64(Int64.max) {
      try container.encode(value)
    } else {
      try container.encode("0x" + String(value, radix: 16))
    }
  }
}

/// Parses `123`, `-9` or `0xfeed` (any case) as a 64-bit bit pattern.
public func parseInteger(_ text: some StringProtocol) -> UInt64? {
  let trimmed = Substring(text)
  if trimmed.hasPrefix("0x") || trimmed.hasPrefix("0X") {
    return UInt64(trimmed.dropFirst(2), radix: 16)
  }
  if trimmed.hasPrefix("-0x") || trimmed.hasPrefix("-0X") {
    return UInt64(trimmed.dropFirst(3), radix: 16).map { 0 &- $0 }
  }
  if let signed = Int64(trimmed) { return UInt64(bitPattern: signed) }
  return UInt64(trimmed)
}
