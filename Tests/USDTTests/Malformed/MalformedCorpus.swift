import Foundation
import Testing

@testable import USDT

/// The cases of `Fixtures/malformed/manifest.json`, written by `ci/make-malformed-corpus.py`.
///
/// Each case is a file of the corpus, or a `setup` the test creates in a temporary directory
/// (a directory, an unreadable file, a FIFO), with the outcome `ProbeList(path:)` must give:
/// an error of one kind, or a listing with the good probes, the bad notes and the per-site
/// problems. The manifest is plain JSON so other implementations can hold themselves to it too.
/// A manifest that yields no cases is an error, never an empty pass.
struct MalformedCorpus {
  struct Case: Decodable, Sendable, CustomTestStringConvertible {
    var name: String
    /// A file in `Fixtures/malformed/`, or nil for a setup case.
    var file: String?
    /// What the test creates instead of a file: `directory`, `missing`, `not-a-directory`,
    /// `unreadable`, `character-device`, `fifo-with-writer`, `fifo-without-writer`.
    var setup: String?
    /// What the input is, for people.
    var what: String
    var expect: Expectation
    /// Set when the library is known not to meet the expectation yet; the test then expects
    /// the failure (and fails once it is fixed, so the marker gets removed).
    var knownIssue: String?

    var testDescription: String { "\(name): \(what)" }
  }

  struct Expectation: Decodable, Sendable {
    /// `ProbeList(path:)` throws this kind.
    var error: String?
    /// … with this `errno` (its C name).
    var errno: String?
    /// Why, for people; tests never compare messages.
    var reason: String?
    /// Otherwise it lists these probes, `provider:name` in note order.
    var listed: [String]?
    /// How many of the listed probes can attach.
    var attachable: Int?
    var malformedNotes: [NoteProblem]?
    var probeProblems: [SiteProblem]?
    var unavailableArguments: [ArgumentProblem]?
    var symbolTable: SymbolTableOutcome?
  }

  /// A bad note: its index in the section (counting bad notes, as `readelf -n` does).
  struct NoteProblem: Decodable, Sendable, Equatable {
    var note: Int
    var kind: String
  }

  /// A problem of the listed probe at index `site`.
  struct SiteProblem: Decodable, Sendable, Comparable {
    var site: Int
    var kind: String
    static func < (a: Self, b: Self) -> Bool { (a.site, a.kind) < (b.site, b.kind) }
  }

  /// An argument of the listed probe at index `site` that cannot be read.
  struct ArgumentProblem: Decodable, Sendable, Comparable {
    var site: Int
    var argument: Int
    var kind: String
    static func < (a: Self, b: Self) -> Bool { (a.site, a.argument, a.kind) < (b.site, b.argument, b.kind) }
  }

  /// What `ELFFile.symbolTable()` gives: an error kind, or the number of `.symtab` entries.
  struct SymbolTableOutcome: Decodable, Sendable {
    var error: String?
    var symtab: Int?
  }

  struct LoadError: Error, CustomStringConvertible {
    var description: String
  }

  private struct Manifest: Decodable {
    var cases: [Case]
  }

  static let directory = "Fixtures/malformed"

  /// Every case of the manifest, checked for shape; throws when there are none.
  static func cases() throws -> [Case] {
    guard let url = Bundle.module.url(forResource: "manifest", withExtension: "json", subdirectory: directory) else {
      throw LoadError(description: "\(directory)/manifest.json is not in the test bundle; run ci/make-malformed-corpus.py")
    }
    let cases = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url)).cases
    guard !cases.isEmpty else { throw LoadError(description: "\(directory)/manifest.json has no cases") }
    for c in cases {
      guard (c.file == nil) != (c.setup == nil) else {
        throw LoadError(description: "case \(c.name): give exactly one of file and setup")
      }
      guard (c.expect.error == nil) != (c.expect.listed == nil) else {
        throw LoadError(description: "case \(c.name): expect either an error or a listing")
      }
      for name in [c.expect.error, c.expect.symbolTable?.error].compactMap({ $0 })
        + (c.expect.malformedNotes ?? []).map(\.kind) + (c.expect.probeProblems ?? []).map(\.kind)
        + (c.expect.unavailableArguments ?? []).map(\.kind)
      where kinds[name] == nil {
        throw LoadError(description: "case \(c.name): unknown error kind \(name)")
      }
      if let errno = c.expect.errno, errnos[errno] == nil {
        throw LoadError(description: "case \(c.name): unknown errno \(errno)")
      }
    }
    return cases
  }

  static func fileCases() throws -> [Case] {
    let found = try cases().filter { $0.file != nil }
    guard !found.isEmpty else { throw LoadError(description: "manifest.json lists no files") }
    return found
  }

  static func setupCases() throws -> [Case] {
    let found = try cases().filter { $0.setup != nil }
    guard !found.isEmpty else { throw LoadError(description: "manifest.json lists no setup cases") }
    return found
  }

  /// The path of a corpus file inside the test bundle.
  static func path(of file: String) throws -> String {
    guard let url = Bundle.module.url(forResource: file, withExtension: nil, subdirectory: directory) else {
      throw LoadError(description: "\(directory)/\(file) is missing from the test bundle")
    }
    return url.path
  }

  /// The manifest's names for `USDTError.Kind`, the cases a reader of untrusted files can produce.
  static let kinds: [String: USDTError.Kind] = [
    "malformedELF": .malformedELF, "malformedNote": .malformedNote, "addressNotMapped": .addressNotMapped,
    "systemCall": .systemCall, "unsupportedOperand": .unsupportedOperand, "unknownRegister": .unknownRegister,
    "unsupportedArchitecture": .unsupportedArchitecture,
  ]

  static let errnos: [String: CInt] = ["ENOENT": ENOENT, "EISDIR": EISDIR, "ENOTDIR": ENOTDIR, "EACCES": EACCES]
}

extension MalformedCorpus.Expectation {
  /// Checks what `ProbeList(path:)` did with `path` against this expectation.
  ///
  /// Every error the reader reports, thrown or collected, must name the file in its description.
  func verify(_ outcome: Result<ProbeList, USDTError>, path: String) throws {
    let kinds = MalformedCorpus.kinds
    switch outcome {
    case .failure(let error):
      guard let expected = self.error else {
        Issue.record("expected a listing, but ProbeList threw \(error)")
        return
      }
      #expect(error.kind == kinds[expected], "\(error)")
      #expect(error.description.contains(path), "the error names the file: \(error)")
      if let name = errno {
        #expect(error.errno?.rawValue == MalformedCorpus.errnos[name], "errno \(name): \(error)")
      }
    case .success(let list):
      guard let listed else {
        Issue.record("expected \(self.error ?? "?"), but ProbeList listed \(list.probes.map(\.qualifiedName))")
        return
      }
      #expect(list.probes.map(\.qualifiedName) == listed)
      #expect(list.probes.filter(\.isAttachable).count == attachable ?? listed.count)

      let notes = malformedNotes ?? []
      #expect(list.malformedNotes.count == notes.count, "\(list.malformedNotes)")
      for (error, expected) in zip(list.malformedNotes, notes) {
        #expect(error.kind == kinds[expected.kind], "\(error)")
        // USDTError has no note-index field; the index leads the message ("note 3 (at offset …").
        #expect(error.message.hasPrefix("note \(expected.note) "), "note \(expected.note): \(error)")
      }

      let problems = list.probes.enumerated().flatMap { site, probe in
        probe.problems.map { MalformedCorpus.SiteProblem(site: site, kind: name(of: $0.kind)) }
      }
      #expect(problems.sorted() == (probeProblems ?? []).sorted(), "\(list.probes.flatMap(\.problems))")

      let unavailable = list.probes.enumerated().flatMap { site, probe in
        probe.unavailableArguments.map {
          MalformedCorpus.ArgumentProblem(site: site, argument: $0.argument ?? -1, kind: name(of: $0.kind))
        }
      }
      #expect(unavailable.sorted() == (unavailableArguments ?? []).sorted())

      for error in list.malformedNotes + list.probes.flatMap({ $0.problems + $0.unavailableArguments }) {
        #expect(error.description.contains(path), "the error names the file: \(error)")
      }

      if let symbolTable {
        switch Result(catching: { () throws(USDTError) in try list.file.symbolTable() }) {
        case .success(let table):
          #expect(symbolTable.error == nil, "symbolTable() succeeded with \(table.symtab.count) symbols")
          if let count = symbolTable.symtab { #expect(table.symtab.count == count) }
        case .failure(let error):
          #expect(error.kind == symbolTable.error.flatMap { kinds[$0] }, "\(error)")
          #expect(error.description.contains(path), "the error names the file: \(error)")
        }
      }
    }
  }

  private func name(of kind: USDTError.Kind) -> String {
    MalformedCorpus.kinds.first { $0.value == kind }?.key ?? "\(kind)"
  }
}
