import Testing

@testable import USDT

/// The RISC-V operand grammar against `Fixtures/arguments/riscv.tsv` (the reference's §7 rows
/// 69–72 plus edge cases, riscv64 and riscv32), and the register tables against §4
/// (`struct user_regs_struct`).
@Suite("RISC-V arguments")
struct RISCVTests {
  @Test("one argument decodes as the fixture says", arguments: try ArgumentFixture.rows("riscv"))
  func fixture(_ row: ArgumentFixture) throws { try row.verify() }

  /// §4, in struct order after `pc`: each ABI name with its `xN` number; `fp` is `s0`.
  static let slots64: [(offset: Int, names: [String])] = [
    (8, ["ra", "x1"]), (16, ["sp", "x2"]), (24, ["gp", "x3"]), (32, ["tp", "x4"]),
    (40, ["t0", "x5"]), (48, ["t1", "x6"]), (56, ["t2", "x7"]),
    (64, ["s0", "x8", "fp"]), (72, ["s1", "x9"]),
    (80, ["a0", "x10"]), (88, ["a1", "x11"]), (96, ["a2", "x12"]), (104, ["a3", "x13"]),
    (112, ["a4", "x14"]), (120, ["a5", "x15"]), (128, ["a6", "x16"]), (136, ["a7", "x17"]),
    (144, ["s2", "x18"]), (152, ["s3", "x19"]), (160, ["s4", "x20"]), (168, ["s5", "x21"]),
    (176, ["s6", "x22"]), (184, ["s7", "x23"]), (192, ["s8", "x24"]), (200, ["s9", "x25"]),
    (208, ["s10", "x26"]), (216, ["s11", "x27"]),
    (224, ["t3", "x28"]), (232, ["t4", "x29"]), (240, ["t5", "x30"]), (248, ["t6", "x31"]),
  ]

  @Test("riscv64 register table matches user_regs_struct")
  func registerTable() throws {
    try ArgumentFixture.verifyRegisters(
      Self.slots64, table: RISCV.registers, architecture: .riscv64, spelling: { "8@\($0)" })
  }

  @Test("riscv32 has the same order with 4-byte slots")
  func registerTable32() throws {
    try ArgumentFixture.verifyRegisters(
      Self.slots64.map { (offset: $0.offset / 2, names: $0.names) }, table: RISCV.registers32,
      architecture: .riscv32, spelling: { "4@\($0)" })
  }

  @Test(
    "the unknown-register message says why",
    arguments: [
      ("8f@fa0", "floating-point"), ("8@v1", "vector"), ("8@pc", "general-purpose"),
      ("8@A0", "case-sensitive"), ("8@ZERO", "case-sensitive"), ("8@x32", "no such"),
    ])
  func reasons(_ input: String, _ reason: String) {
    let error = #expect(throws: USDTError.self) {
      try ArgumentParsing.parseArgument(input, architecture: .riscv64, index: 0)
    }
    #expect(error?.kind == .unknownRegister)
    #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
  }
}
