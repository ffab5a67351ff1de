/// The RISC-V operand grammar of USDT arguments (riscv64 and riscv32), and its register tables.
///
/// sdt.h hands each argument to the assembler through the constraint `"nor"`, so the compiler
/// prints one of:
///
/// | Text | Operand |
/// |---|---|
/// | `a1`, `s0`, `x11`, `fp` | ``Operand/register(_:)`` |
/// | `42`, `-1` | ``Operand/constant(_:)`` |
/// | `44(sp)`, `-88(s0)`, `(a0)` | ``Operand/memory(base:offset:)`` |
/// | `%lo(sym)(a5)`, `%lo(sym+8)(a5)` (gcc, non-PIC) | ``Operand/symbol(name:offset:)`` |
/// | `zero`, `x0` | ``Operand/constant(_:)`` 0 |
///
/// riscv32 has the same names and order with 4-byte slots; an 8-byte value named by one register
/// is in a register pair there and is refused by ``ArgumentParsing``.
///
/// Where this differs from libbpf (1.1.2 and 1.7), deliberately:
/// - `xN` numbers and the `fp` alias of `s0` are accepted (libbpf knows only ABI names: `ENOENT`).
/// - `zero`/`x0` is hard-wired to 0 and has no `pt_regs` slot (slot 0 holds `pc`), so as a value it
///   is the constant 0; as an address base it would be an absolute address and is refused.
/// - `(a0)` without an offset is accepted (libbpf: `EINVAL`).
/// - `%lo(sym)(reg)` is gcc's second half of `lui reg, %hi(sym)`: the register holds the upper
///   bits of `sym`'s address and `%lo` adds the rest, so the operand is the memory at `sym`. It
///   becomes ``Operand/symbol(name:offset:)``, resolved by the caller through the symbol table;
///   the register's value is implied by the relocation. `%pcrel_lo(label)` names the `auipc`'s
///   label, not the symbol, and TLS relocations (`%tprel_lo`) need the thread pointer: refused.
/// - Whitespace inside an operand is an error, as on x86.
enum RISCV {
  /// `struct user_regs_struct` (riscv64): `pc` in slot 0, then `x1`…`x31` in order, so `xN` sits
  /// at `8 * N`. `pc` is never printed for an argument and is not in the table.
  static let registers: [String: Register] = table(slotSize: 8)

  /// The same struct on riscv32, with 4-byte slots.
  static let registers32: [String: Register] = table(slotSize: 4)

  /// ABI names of `x1`…`x31`, in `user_regs_struct` order.
  static let abiNames = [
    "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1",
    "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7",
    "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
    "t3", "t4", "t5", "t6",
  ]

  private static func table(slotSize: Int) -> [String: Register] {
    ArgumentParsing.registerTable(
      abiNames.enumerated().map { position, name in
        let number = position + 1
        return (slotSize * number, [name, "x\(number)"] + (name == "s0" ? ["fp"] : []))
      })
  }

  /// The hard-wired zero register's names.
  private static let zeroRegisters: Set<Substring> = ["zero", "x0"]

  /// Decodes one operand (the text after `@`, already trimmed).
  ///
  /// - Parameter is64Bit: `true` for riscv64 (``registers``), `false` for riscv32 (``registers32``).
  /// - Throws: `.unsupportedOperand` for text outside the grammar, a number that overflows `Int64`
  ///   or an unsupported relocation; `.unknownRegister` for a register that does not exist or is
  ///   not in `user_regs_struct` (floating-point and vector registers, `pc`).
  static func operand(_ text: Substring, is64Bit: Bool) throws(USDTError) -> Operand {
    if text.contains(where: ArgumentParsing.isBlank) {
      throw USDTError(.unsupportedOperand, "whitespace inside an operand")
    }
    if text.contains("(") || text.contains(")") { return try memory(text, is64Bit: is64Bit) }
    if let value = try ArgumentParsing.integer(text) { return .constant(value) }
    if zeroRegisters.contains(text) { return .constant(0) }
    return .register(try register(text, is64Bit: is64Bit))
  }

  // MARK: - Memory operands

  /// `offset(base)`, `(base)` or `%lo(sym)(base)`.
  private static func memory(_ text: Substring, is64Bit: Bool) throws(USDTError) -> Operand {
    guard text.last == ")", let open = text.lastIndex(of: "(") else {
      throw USDTError(.unsupportedOperand, "expected offset(register)")
    }
    let baseName = text[text.index(after: open)..<text.index(before: text.endIndex)]
    guard !baseName.isEmpty, !baseName.contains(")") else {
      throw USDTError(.unsupportedOperand, "expected a register inside '(…)'")
    }
    if zeroRegisters.contains(baseName) {
      throw USDTError(
        .unsupportedOperand, "an offset from the zero register is an absolute address")
    }
    let base = try register(baseName, is64Bit: is64Bit)
    let displacement = text[..<open]
    if displacement.isEmpty { return .memory(base: base, offset: 0) }
    if let offset = try ArgumentParsing.integer(displacement) {
      return .memory(base: base, offset: offset)
    }
    if displacement.first == "%" { return try lowBits(displacement) }
    throw USDTError(.unsupportedOperand, "cannot read displacement \(displacement)")
  }

  /// `%lo(sym)` or `%lo(sym±N)`: the low 12 bits that complete `lui base, %hi(sym)`.
  private static func lowBits(_ text: Substring) throws(USDTError) -> Operand {
    guard let open = text.firstIndex(of: "("), text.last == ")" else {
      throw USDTError(.unsupportedOperand, "cannot read relocation \(text)")
    }
    let relocation = text[text.index(after: text.startIndex)..<open]
    guard relocation == "lo" else {
      throw USDTError(
        .unsupportedOperand, "relocation %\(relocation) is not supported here",
        hint: relocation.hasPrefix("tprel") || relocation.hasPrefix("tls")
          ? "thread-local variables cannot be read by a uprobe"
          : "only %lo(symbol) names the symbol's own address; %pcrel_lo names an auipc label")
    }
    let inner = text[text.index(after: open)..<text.index(before: text.endIndex)]
    guard let symbol = try ArgumentParsing.symbolWithAddend(inner) else {
      throw USDTError(.unsupportedOperand, "expected %lo(symbol) or %lo(symbol+N)")
    }
    return .symbol(name: symbol.name, offset: symbol.addend)
  }

  // MARK: - Registers

  /// Looks up a name in the table for the target's width, explaining why a name is refused.
  private static func register(_ text: Substring, is64Bit: Bool) throws(USDTError) -> Register {
    let table = is64Bit ? registers : registers32
    if let register = table[String(text)] { return register }
    throw USDTError(.unknownRegister, "\(text): " + whyUnreadable(text))
  }

  /// Why a register name is not in the table; the common cases get a specific reason.
  private static func whyUnreadable(_ name: Substring) -> String {
    if ["f", "ft", "fs", "fa", "v"].contains(where: {
      ArgumentParsing.number(in: name, after: $0) != nil
    }) {
      return "floating-point and vector registers are not saved in user_regs_struct"
    }
    if name == "pc" {
      return "not a general-purpose register"
    }
    let lower = name.lowercased()
    if lower != name, registers[lower] != nil || zeroRegisters.contains(Substring(lower)) {
      return "register names are case-sensitive; write \(lower)"
    }
    return "no such RISC-V register"
  }
}
