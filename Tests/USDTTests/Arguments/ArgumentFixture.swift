import Foundation
import Testing

@testable import USDT

/// Rows of the argument fixture tables in `Fixtures/arguments/*.tsv`.
///
/// The TSV is shared with other implementations, so its format is plain: `#` lines are comments,
/// the first other line is the header, then one argument per row (columns in the file's header
/// comment). A table that yields no rows is an error, never an empty pass.
struct ArgumentFixture: Sendable, CustomTestStringConvertible {
  enum Expected: Sendable {
    case spec(size: Int, isSigned: Bool, isFloat: Bool, operand: Operand)
    case error(USDTError.Kind)
  }

  var architecture: Architecture
  var input: String
  var expected: Expected
  /// The reference row (`arguments.md` §7), or `E+ …` for an added case.
  var reference: String
  var file: String
  var line: Int

  var testDescription: String { "\(architecture.rawValue) \(input)  [\(reference)]" }

  struct LoadError: Error, CustomStringConvertible {
    var description: String
  }

  /// Every table in `Fixtures/arguments/`, one per architecture file in `Sources/USDT/Arguments/`.
  static let files = ["x86", "aarch64", "arm", "riscv", "s390x", "powerpc", "loongarch"]

  /// Loads `Fixtures/arguments/<name>.tsv` from the test bundle.
  static func rows(_ name: String) throws -> [ArgumentFixture] {
    guard
      let url = Bundle.module.url(
        forResource: name, withExtension: "tsv", subdirectory: "Fixtures/arguments")
    else { throw LoadError(description: "Fixtures/arguments/\(name).tsv is not in the test bundle") }
    let rows = try parse(String(contentsOf: url, encoding: .utf8), file: "\(name).tsv")
    guard !rows.isEmpty else { throw LoadError(description: "\(name).tsv has no rows") }
    return rows
  }

  static func parse(_ text: String, file: String) throws -> [ArgumentFixture] {
    var rows: [ArgumentFixture] = []
    var sawHeader = false
    for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      if line.isEmpty || line.hasPrefix("#") { continue }
      guard sawHeader else {
        sawHeader = true
        continue
      }
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      func fail(_ why: String) -> LoadError { LoadError(description: "\(file):\(number + 1): \(why)") }
      guard fields.count == 12 else { throw fail("expected 12 columns, found \(fields.count)") }
      let (arch, input, kind, base, index, scale, disp, size, signed, float, error, ref) = (
        fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], fields[6], fields[7],
        fields[8], fields[9], fields[10], fields[11]
      )
      guard let architecture = Architecture(rawValue: arch) else { throw fail("arch \(arch)") }

      let expected: Expected
      if kind == "ERR" {
        guard let errorKind = errorKinds[error] else { throw fail("error kind \(error)") }
        expected = .error(errorKind)
      } else {
        guard let size = Int(size), let value = Int64(disp) else { throw fail("size/disp") }
        func register(_ text: String) throws -> Register {
          let parts = text.split(separator: ":")
          guard parts.count == 2, let offset = Int(parts[1]) else { throw fail("register \(text)") }
          return Register(name: String(parts[0]), offset: offset)
        }
        let operand: Operand
        switch kind {
        case "REG": operand = .register(try register(base))
        case "DEREF": operand = .memory(base: try register(base), offset: value)
        case "CONST": operand = .constant(value)
        case "SYM": operand = .symbol(name: base, offset: value)
        case "SIB":
          guard let scale = Int(scale) else { throw fail("scale \(scale)") }
          operand = .indexed(
            base: base.isEmpty ? nil : try register(base), index: try register(index),
            scale: scale, offset: value)
        default: throw fail("kind \(kind)")
        }
        expected = .spec(size: size, isSigned: signed == "y", isFloat: float == "y", operand: operand)
      }
      rows.append(
        ArgumentFixture(
          architecture: architecture, input: input, expected: expected, reference: ref,
          file: file, line: number + 1))
    }
    return rows
  }

  /// Checks the row against the parser, alone and as a whole argument string.
  ///
  /// The contract every architecture's table is held to: a decoded row gives exactly the
  /// fixture's spec both ways; an error row throws its kind, naming argument 0 and the input.
  func verify() throws {
    let comment: Comment = "\(file) line \(line)"
    switch expected {
    case .spec(let size, let isSigned, let isFloat, let operand):
      let spec = try ArgumentParsing.parseArgument(input, architecture: architecture, index: 0)
      #expect(spec.operand == operand, comment)
      #expect(spec.size == size, comment)
      #expect(spec.isSigned == isSigned, comment)
      #expect(spec.isFloat == isFloat, comment)
      // A whole string holding only this argument gives the same spec.
      #expect(try ArgumentParsing.parse(input, architecture: architecture) == [spec], comment)
    case .error(let kind):
      let error = #expect(throws: USDTError.self, comment) {
        try ArgumentParsing.parseArgument(input, architecture: architecture, index: 0)
      }
      #expect(error?.kind == kind, comment)
      #expect(error?.argument == 0, comment)
      #expect(error?.input == input, comment)
      let whole = #expect(throws: USDTError.self, comment) {
        try ArgumentParsing.parse(input, architecture: architecture)
      }
      #expect(whole?.kind == kind, comment)
    }
  }

  /// Checks a register table slot by slot against the reference's §4: every name parses to its
  /// slot's canonical register (the first name), and the table holds no other names.
  ///
  /// - Parameter spelling: how a name is written as a whole argument (`"8@%\(name)"`, `"8@$\(name)"`).
  static func verifyRegisters(
    _ slots: [(offset: Int, names: [String])], table: [String: Register],
    architecture: Architecture, spelling: (String) -> String
  ) throws {
    var count = 0
    for slot in slots {
      let expected = Register(name: slot.names[0], offset: slot.offset)
      for name in slot.names {
        #expect(table[name] == expected, "\(name)")
        let spec = try ArgumentParsing.parseArgument(spelling(name), architecture: architecture, index: 0)
        #expect(spec.operand == .register(expected), "\(name)")
        count += 1
      }
    }
    #expect(table.count == count, "no names beyond the reference's table")
  }

  static let errorKinds: [String: USDTError.Kind] = [
    "unsupportedOperand": .unsupportedOperand,
    "unknownRegister": .unknownRegister,
    "unsupportedArchitecture": .unsupportedArchitecture,
  ]
}
