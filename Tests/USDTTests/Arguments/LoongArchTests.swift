import Testing

@testable import USDT

/// The loongarch64 operand grammar against `Fixtures/arguments/loongarch.tsv` (assumed gas syntax:
/// the reference has no measured rows), and the register table against §4 (`user_pt_regs`).
@Suite("loongarch64 arguments")
struct LoongArchTests {
  @Test(
    "one argument decodes as the fixture says", arguments: try ArgumentFixture.rows("loongarch"))
  func fixture(_ row: ArgumentFixture) throws { try row.verify() }

  /// §4: `$rN` at `8 * N`, under its ABI name; `$zero` (r0) is the constant 0, not a slot.
  static let slots: [(offset: Int, names: [String])] = [
    (8, ["ra", "r1"]), (16, ["tp", "r2"]), (24, ["sp", "r3"]),
    (32, ["a0", "r4"]), (40, ["a1", "r5"]), (48, ["a2", "r6"]), (56, ["a3", "r7"]),
    (64, ["a4", "r8"]), (72, ["a5", "r9"]), (80, ["a6", "r10"]), (88, ["a7", "r11"]),
    (96, ["t0", "r12"]), (104, ["t1", "r13"]), (112, ["t2", "r14"]), (120, ["t3", "r15"]),
    (128, ["t4", "r16"]), (136, ["t5", "r17"]), (144, ["t6", "r18"]), (152, ["t7", "r19"]),
    (160, ["t8", "r20"]), (168, ["r21"]), (176, ["fp", "s9", "r22"]),
    (184, ["s0", "r23"]), (192, ["s1", "r24"]), (200, ["s2", "r25"]), (208, ["s3", "r26"]),
    (216, ["s4", "r27"]), (224, ["s5", "r28"]), (232, ["s6", "r29"]), (240, ["s7", "r30"]),
    (248, ["s8", "r31"]),
  ]

  @Test("register table matches user_pt_regs")
  func registerTable() throws {
    try ArgumentFixture.verifyRegisters(
      Self.slots, table: LoongArch.registers, architecture: .loongarch64, spelling: { "8@$\($0)" })
  }

  @Test(
    "the unknown-register message says why",
    arguments: [
      ("8f@$fa0", "floating-point"), ("8@$xr1", "vector"), ("8@$r32", "$r0 to $r31"),
      ("8@$A0", "case-sensitive"), ("8@$x", "no such"),
    ])
  func reasons(_ input: String, _ reason: String) {
    let error = #expect(throws: USDTError.self) {
      try ArgumentParsing.parseArgument(input, architecture: .loongarch64, index: 0)
    }
    #expect(error?.kind == .unknownRegister)
    #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
  }
}
