/// The i386 register table; the operand grammar is x86-64's (AT&T syntax), in `X86`.
///
/// Offsets are into the 32-bit kernel's `struct pt_regs` (68 bytes, 4-byte slots), checked with
/// `clang --target=i386`. The 64-bit names are accepted as aliases, as libbpf does, because the
/// size decides the width anyway; `r8`-`r15` do not exist on i386 and are refused. The slots
/// `xds` 28, `xes` 32, `xfs` 36, `xgs` 40, `orig_eax` 44, `xcs` 52, `eflags` 56 and `xss` 64 are
/// never printed for an argument value and are refused, as in libbpf. The high bytes sit one byte
/// into their slot, as on x86-64 (see ``X86/registers``).
enum I386 {
  static let registers: [String: Register] = ArgumentParsing.registerTable([
    (0, ["ebx", "rbx", "bx", "bl"]),
    (4, ["ecx", "rcx", "cx", "cl"]),
    (8, ["edx", "rdx", "dx", "dl"]),
    (12, ["esi", "rsi", "si", "sil"]),
    (16, ["edi", "rdi", "di", "dil"]),
    (20, ["ebp", "rbp", "bp", "bpl"]),
    (24, ["eax", "rax", "ax", "al"]),
    (48, ["eip", "rip"]),
    (60, ["esp", "rsp", "sp", "spl"]),
    (1, ["bh"]), (5, ["ch"]), (9, ["dh"]), (25, ["ah"]),
  ])
}
