import Testing

@testable import USDT

/// The arm32 operand grammar against `Fixtures/arguments/arm.tsv` (the reference's §7 rows 64–68
/// plus edge cases), and the register table against §4 (`struct pt_regs`, 4-byte slots).
@Suite("arm32 arguments")
struct ARMTests {
  @Test("one argument decodes as the fixture says", arguments: try ArgumentFixture.rows("arm"))
  func fixture(_ row: ArgumentFixture) throws { try row.verify() }

  /// §4: `r0`…`r10` at `4 * N`, then `fp` 44, `ip` 48, `sp` 52, `lr` 56, `pc` 60. The numbers
  /// `r11`…`r15` and gas's `sb` (r9) and `sl` (r10) are accepted as aliases.
  static let slots: [(offset: Int, names: [String])] = [
    (0, ["r0"]), (4, ["r1"]), (8, ["r2"]), (12, ["r3"]), (16, ["r4"]), (20, ["r5"]), (24, ["r6"]),
    (28, ["r7"]), (32, ["r8"]), (36, ["r9", "sb"]), (40, ["r10", "sl"]), (44, ["fp", "r11"]),
    (48, ["ip", "r12"]), (52, ["sp", "r13"]), (56, ["lr", "r14"]), (60, ["pc", "r15"]),
  ]

  @Test("register table matches pt_regs")
  func registerTable() throws {
    try ArgumentFixture.verifyRegisters(
      Self.slots, table: ARM.registers, architecture: .arm, spelling: { "4@\($0)" })
  }

  @Test(
    "the unknown-register message says why",
    arguments: [
      ("8f@d0", "VFP"), ("4@q1", "NEON"), ("4@R0", "case-sensitive"), ("4@cpsr", "general-purpose"),
      ("4@r16", "no such"),
    ])
  func reasons(_ input: String, _ reason: String) {
    let error = #expect(throws: USDTError.self) {
      try ArgumentParsing.parseArgument(input, architecture: .arm, index: 0)
    }
    #expect(error?.kind == .unknownRegister)
    #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
  }
}
