import Testing

@testable import USDT

/// The aarch64 operand grammar against `Fixtures/arguments/aarch64.tsv` (the reference's §7 rows
/// 54–63 plus edge cases), and the register table against §4 (`struct user_pt_regs`).
@Suite("aarch64 arguments")
struct AArch64Tests {
  @Test("one argument decodes as the fixture says", arguments: try ArgumentFixture.rows("aarch64"))
  func fixture(_ row: ArgumentFixture) throws { try row.verify() }

  /// §4: `xN` at `8 * N` (`x29` 232, `x30` 240), `sp` at 248; `wN` is the low half of `xN`'s slot.
  /// `fp` and `lr` are gas's aliases.
  static let slots: [(offset: Int, names: [String])] =
    (0...28).map { n in (offset: 8 * n, names: ["x\(n)", "w\(n)"]) } + [
      (232, ["x29", "w29", "fp"]), (240, ["x30", "w30", "lr"]), (248, ["sp", "wsp"]),
    ]

  @Test("register table matches user_pt_regs")
  func registerTable() throws {
    try ArgumentFixture.verifyRegisters(
      Self.slots, table: AArch64.registers, architecture: .aarch64, spelling: { "8@\($0)" })
    #expect(AArch64.registers["x21"]?.offset == 168, "the reference's note on row 63")
  }

  @Test(
    "the unknown-register message says why",
    arguments: [
      ("8@x31", "sp or xzr"), ("8@v0", "SIMD"), ("8f@d0", "floating-point"),
      ("8@X0", "case-sensitive"),
      ("8@pc", "general-purpose"), ("8@[xzr]", "zero register"), ("8@x99", "no such"),
    ])
  func reasons(_ input: String, _ reason: String) {
    let error = #expect(throws: USDTError.self) {
      try ArgumentParsing.parseArgument(input, architecture: .aarch64, index: 0)
    }
    #expect(error?.kind == .unknownRegister)
    #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
  }

  @Test(
    "refused relocations say which, and why",
    arguments: [
      ("8@[x0, #:got_lo12:gvar]", "GOT"), ("8@[x0, #:tprel_lo12_nc:tlsv]", "thread-local"),
    ])
  func relocations(_ input: String, _ hint: String) {
    let error = #expect(throws: USDTError.self) {
      try ArgumentParsing.parseArgument(input, architecture: .aarch64, index: 0)
    }
    #expect(error?.kind == .unsupportedOperand)
    #expect(error?.hint?.contains(hint) == true, "\(error?.hint ?? "")")
  }

  @Test("clang-style multi-argument strings split at the brackets' blanks")
  func brackets() throws {
    let specs = try ArgumentParsing.parse(
      "-4@[sp, 96] -8@x4 8@[x21, #:lo12:.LANCHOR2] -1@[x0, x1] -4@42", architecture: .aarch64)
    #expect(specs.map(\.text) == ["[sp, 96]", "x4", "[x21, #:lo12:.LANCHOR2]", "[x0, x1]", "42"])
  }
}
