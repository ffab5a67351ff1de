import Testing

@testable import USDT

/// The s390x operand grammar against `Fixtures/arguments/s390x.tsv` (the reference's §7 rows
/// 73–76 plus edge cases), and the register table against §4 (`user_pt_regs`).
@Suite("s390x arguments")
struct S390XTests {
  @Test("one argument decodes as the fixture says", arguments: try ArgumentFixture.rows("s390x"))
  func fixture(_ row: ArgumentFixture) throws { try row.verify() }

  /// §4: the gprs follow `args[1]` (8 bytes) and the 16-byte `psw`: `%rN` at `24 + 8 * N`.
  static let slots: [(offset: Int, names: [String])] =
    (0...15).map { n in (offset: 24 + 8 * n, names: ["r\(n)"]) }

  @Test("register table matches user_pt_regs")
  func registerTable() throws {
    try ArgumentFixture.verifyRegisters(
      Self.slots, table: S390X.registers, architecture: .s390x, spelling: { "8@%\($0)" })
    #expect(S390X.registers["r2"]?.offset == 40)
    #expect(S390X.registers["r15"]?.offset == 144)
  }

  @Test(
    "the unknown-register message says why",
    arguments: [
      ("8@%r16", "%r0 to %r15"), ("8f@%f0", "floating-point"), ("8@%a1", "access"),
      ("8@%R2", "case-sensitive"), ("8@%x", "no such"),
    ])
  func reasons(_ input: String, _ reason: String) {
    let error = #expect(throws: USDTError.self) {
      try ArgumentParsing.parseArgument(input, architecture: .s390x, index: 0)
    }
    #expect(error?.kind == .unknownRegister)
    #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
  }
}
