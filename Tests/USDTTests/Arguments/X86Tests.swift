import Testing

@testable import USDT

/// The x86-64 and i386 operand grammar against `Fixtures/arguments/x86.tsv`
/// (the reference's §7 rows plus edge cases), and the x86-64 register table against §4.
@Suite("x86 arguments")
struct X86Tests {
  @Test("one argument decodes as the fixture says", arguments: try ArgumentFixture.rows("x86"))
  func fixture(_ row: ArgumentFixture) throws { try row.verify() }

  /// §4 of the reference, slot by slot: every alias lands in the canonical register's slot.
  static let x86_64Slots: [(offset: Int, names: [String])] = [
    (0, ["r15", "r15d", "r15w", "r15b"]), (8, ["r14", "r14d", "r14w", "r14b"]),
    (16, ["r13", "r13d", "r13w", "r13b"]), (24, ["r12", "r12d", "r12w", "r12b"]),
    (32, ["rbp", "ebp", "bp", "bpl"]), (40, ["rbx", "ebx", "bx", "bl"]),
    (48, ["r11", "r11d", "r11w", "r11b"]), (56, ["r10", "r10d", "r10w", "r10b"]),
    (64, ["r9", "r9d", "r9w", "r9b"]), (72, ["r8", "r8d", "r8w", "r8b"]),
    (80, ["rax", "eax", "ax", "al"]), (88, ["rcx", "ecx", "cx", "cl"]),
    (96, ["rdx", "edx", "dx", "dl"]), (104, ["rsi", "esi", "si", "sil"]),
    (112, ["rdi", "edi", "di", "dil"]), (128, ["rip", "eip"]), (152, ["rsp", "esp", "sp", "spl"]),
    (41, ["bh"]), (81, ["ah"]), (89, ["ch"]), (97, ["dh"]),
  ]

  @Test("x86-64 register table matches pt_regs")
  func registerTable() throws {
    var count = 0
    for slot in Self.x86_64Slots {
      for name in slot.names {
        #expect(X86.registers[name] == Register(name: slot.names[0], offset: slot.offset), "\(name)")
        let size = X86.highByteRegisters.contains(name) ? 1 : 8
        let spec = try ArgumentParsing.parseArgument("\(size)@%\(name)", architecture: .x86_64, index: 0)
        #expect(spec.operand == .register(Register(name: slot.names[0], offset: slot.offset)))
        count += 1
      }
    }
    #expect(X86.registers.count == count, "no names beyond the reference's table")
  }

  @Test("the unknown-register message says why", arguments: [
    ("8@%xmm0", "pt_regs"), ("-4@%fs:tlsv@tpoff", "segment"),
    ("-4@%EAX", "case-sensitive"), ("8@%cs", "segment"), ("8@%orig_rax", "general-purpose"),
  ])
  func reasons(_ input: String, _ reason: String) {
    let error = #expect(throws: USDTError.self) {
      try ArgumentParsing.parseArgument(input, architecture: .x86_64, index: 0)
    }
    #expect(error?.kind == .unknownRegister)
    #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
  }

  @Test("the operand text is kept verbatim, without the blanks around it")
  func operandText() throws {
    let spec = try ArgumentParsing.parseArgument(" -4 @ -20(%rbp)\t", architecture: .x86_64, index: 0)
    #expect(spec.text == "-20(%rbp)")
    #expect(spec.bitShift == 32)
  }
}
