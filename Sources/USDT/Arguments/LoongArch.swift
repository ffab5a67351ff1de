/// The loongarch64 operand grammar of USDT arguments, and its register table.
///
/// **Assumed, not measured.** No compiler here targets LoongArch and libbpf has no parser
/// (`arguments.md` §2, §4), so the grammar is the GNU assembler's, as gcc prints operands:
/// registers as `$rN` (gcc) or ABI names `$a0`, `$sp`, `$fp` (clang), immediates as bare numbers,
/// and memory as the *operand list* of a load, `$base,offset` or `$base,$index`, which is what
/// gcc's `loongarch_print_operand_address` writes (`"%s,"` then the offset). There are no
/// parentheses: `ld.d $a0,$sp,16` reads memory at `$sp + 16`.
///
/// | Text | Operand |
/// |---|---|
/// | `$a0`, `$r4`, `$sp`, `$fp` | ``Operand/register(_:)`` |
/// | `42`, `-1` | ``Operand/constant(_:)`` |
/// | `$r3,16`, `$sp, -8` | ``Operand/memory(base:offset:)`` |
/// | `$r4,$r5` | ``Operand/indexed(base:index:scale:offset:)`` |
/// | `$zero`, `$r0` | ``Operand/constant(_:)`` 0 |
///
/// Deliberately:
/// - `$zero` is hard-wired to 0, so as a value it is the constant 0; as a base (`$r0,16`, gcc's
///   absolute address) it is refused.
/// - Relocated offsets (`$r12,%pc_lo12(sym)`, TLS `%le_lo12`) are refused, as are the MIPS form
///   `16($sp)` and bcc's bracketed guess `[$r3, 16]`, which the assembler does not accept.
/// - Whitespace after `,` is allowed, in case a compiler prints `$sp, 16`.
enum LoongArch {
  /// `struct user_pt_regs { unsigned long regs[32]; … }`: `$rN` at `8 * N`, under its ABI name.
  /// `orig_a0`, `csr_era` and `csr_badv` follow but never hold an argument.
  static let registers: [String: Register] = ArgumentParsing.registerTable(
    [(8, ["ra", "r1"]), (16, ["tp", "r2"]), (24, ["sp", "r3"])]
      + (0...7).map { n in (offset: 8 * (4 + n), names: ["a\(n)", "r\(4 + n)"]) }
      + (0...8).map { n in (offset: 8 * (12 + n), names: ["t\(n)", "r\(12 + n)"]) }
      + [(168, ["r21"]), (176, ["fp", "s9", "r22"])]
      + (0...8).map { n in (offset: 8 * (23 + n), names: ["s\(n)", "r\(23 + n)"]) })

  /// The hard-wired zero register's names (without `$`).
  private static let zeroRegisters: Set<Substring> = ["zero", "r0"]

  /// Decodes one operand (the text after `@`, already trimmed).
  ///
  /// - Throws: `.unsupportedOperand` for text outside the grammar (relocations included) or a
  ///   number that overflows `Int64`; `.unknownRegister` for a register that does not exist or is
  ///   not in `user_pt_regs` (floating-point and vector registers).
  static func operand(_ text: Substring) throws(USDTError) -> Operand {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
      .map(ArgumentParsing.trimmed)
    guard !parts.contains(where: { $0.isEmpty || $0.contains(where: ArgumentParsing.isBlank) })
    else {
      throw USDTError(.unsupportedOperand, "empty part or whitespace inside an operand")
    }
    if parts.count == 2 { return try memory(base: parts[0], offset: parts[1]) }
    guard parts.count == 1 else {
      throw USDTError(
        .unsupportedOperand, "expected $reg, an integer, $base,offset or $base,$index")
    }
    if text.first == "$" {
      if zeroRegisters.contains(text.dropFirst()) { return .constant(0) }
      return .register(try register(text))
    }
    guard let value = try ArgumentParsing.integer(text) else {
      throw USDTError(
        .unsupportedOperand,
        "expected $reg, an integer, $base,offset or $base,$index (memory has no parentheses)")
    }
    return .constant(value)
  }

  // MARK: - Memory operands

  /// `$base,offset` or `$base,$index`.
  private static func memory(base: Substring, offset: Substring) throws(USDTError) -> Operand {
    guard base.first == "$", !zeroRegisters.contains(base.dropFirst()) else {
      throw USDTError(
        .unsupportedOperand,
        base.first == "$"
          ? "an offset from $zero is an absolute address" : "expected a base register, not \(base)")
    }
    let baseRegister = try register(base)
    if let value = try ArgumentParsing.integer(offset) {
      return .memory(base: baseRegister, offset: value)
    }
    if offset.first == "$" {
      if zeroRegisters.contains(offset.dropFirst()) {
        return .memory(base: baseRegister, offset: 0)
      }
      return .indexed(base: baseRegister, index: try register(offset), scale: 1, offset: 0)
    }
    throw USDTError(
      .unsupportedOperand, "offset \(offset) is not an integer or a register",
      hint: offset.first == "%"
        ? "relocated offsets (%pc_lo12, %le_lo12, …) are not supported" : nil)
  }

  // MARK: - Registers

  /// Looks up `$name` in ``registers``, explaining why a name is refused.
  private static func register(_ text: Substring) throws(USDTError) -> Register {
    let name = text.dropFirst()
    if let register = registers[String(name)] { return register }
    throw USDTError(.unknownRegister, "\(text): " + whyUnreadable(name))
  }

  /// Why a register name is not in the table; the common cases get a specific reason.
  private static func whyUnreadable(_ name: Substring) -> String {
    if ["f", "fa", "ft", "fs", "vr", "xr", "fcc"].contains(where: {
      ArgumentParsing.number(in: name, after: $0) != nil
    }) {
      return "floating-point and vector registers are not saved in user_pt_regs"
    }
    if let number = ArgumentParsing.number(in: name, after: "r"), number > 31 {
      return "loongarch64 has general-purpose registers $r0 to $r31"
    }
    let lower = name.lowercased()
    if lower != name, registers[lower] != nil {
      return "register names are case-sensitive; write $\(lower)"
    }
    return "no such loongarch64 register"
  }
}
