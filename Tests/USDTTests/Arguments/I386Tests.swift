import Testing

@testable import USDT

/// The i386 register table against the reference's §4 (32-bit `struct pt_regs`).
/// The i386 grammar rows live in `x86.tsv` and run in ``X86Tests``.
@Suite("i386 registers")
struct I386Tests {
  static let slots: [(offset: Int, names: [String])] = [
    (0, ["ebx", "rbx", "bx", "bl"]), (4, ["ecx", "rcx", "cx", "cl"]),
    (8, ["edx", "rdx", "dx", "dl"]), (12, ["esi", "rsi", "si", "sil"]),
    (16, ["edi", "rdi", "di", "dil"]), (20, ["ebp", "rbp", "bp", "bpl"]),
    (24, ["eax", "rax", "ax", "al"]), (48, ["eip", "rip"]), (60, ["esp", "rsp", "sp", "spl"]),
    (1, ["bh"]), (5, ["ch"]), (9, ["dh"]), (25, ["ah"]),
  ]

  @Test("i386 register table matches pt_regs, 64-bit names as aliases")
  func registerTable() throws {
    var count = 0
    for slot in Self.slots {
      for name in slot.names {
        let size = X86.highByteRegisters.contains(name) ? 1 : 4
        let spec = try ArgumentParsing.parseArgument("-\(size)@%\(name)", architecture: .i386, index: 0)
        #expect(spec.operand == .register(Register(name: slot.names[0], offset: slot.offset)), "\(name)")
        count += 1
      }
    }
    #expect(I386.registers.count == count)
  }

  @Test("r8-r15 do not exist on i386", arguments: ["r8", "r9d", "r10w", "r11b", "r12", "r15"])
  func noExtendedRegisters(_ name: String) {
    let error = #expect(throws: USDTError.self) {
      try ArgumentParsing.parseArgument("-4@%\(name)", architecture: .i386, index: 3)
    }
    #expect(error?.kind == .unknownRegister)
    #expect(error?.argument == 3)
    #expect(error?.message.contains("x86-64") == true)
  }
}
