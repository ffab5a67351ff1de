import Testing

@testable import USDT

/// The PowerPC operand grammar against `Fixtures/arguments/powerpc.tsv` (the reference's §7 rows
/// 77–78 plus edge cases), and the register tables against §4 (`struct pt_regs`, `gpr[32]` first).
@Suite("PowerPC arguments")
struct PowerPCTests {
  @Test("one argument decodes as the fixture says", arguments: try ArgumentFixture.rows("powerpc"))
  func fixture(_ row: ArgumentFixture) throws { try row.verify() }

  static func slots(slotSize: Int) -> [(offset: Int, names: [String])] {
    (0...31).map { n in (offset: slotSize * n, names: ["r\(n)"]) }
  }

  @Test(
    "ppc64 register table matches pt_regs, as N and as %rN",
    arguments: [Architecture.ppc64le, .ppc64])
  func registerTable(_ architecture: Architecture) throws {
    try ArgumentFixture.verifyRegisters(
      Self.slots(slotSize: 8), table: PowerPC.registers, architecture: architecture,
      spelling: { "8@%\($0)" })
    try ArgumentFixture.verifyRegisters(
      Self.slots(slotSize: 8), table: PowerPC.registers, architecture: architecture,
      spelling: { "8@\($0.dropFirst())" })
  }

  @Test("32-bit ppc has 4-byte slots")
  func registerTable32() throws {
    try ArgumentFixture.verifyRegisters(
      Self.slots(slotSize: 4), table: PowerPC.registers32, architecture: .ppc,
      spelling: { "4@\($0.dropFirst())" })
  }

  @Test(
    "the unknown-register message says why",
    arguments: [
      ("-4@42", "0 to 31"), ("8f@%f1", "floating-point"), ("8@%vs3", "vector"),
      ("8@%lr", "general-purpose"), ("8@%cr0", "general-purpose"), ("8@%x", "no such"),
    ])
  func reasons(_ input: String, _ reason: String) {
    let error = #expect(throws: USDTError.self) {
      try ArgumentParsing.parseArgument(input, architecture: .ppc64le, index: 0)
    }
    #expect(error?.kind == .unknownRegister)
    #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
  }
}
