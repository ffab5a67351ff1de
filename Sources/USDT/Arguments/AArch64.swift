/// The aarch64 operand grammar of USDT arguments, and its register table.
///
/// sdt.h hands each argument to the assembler through the constraint `"nor"`, so the compiler
/// prints one of:
///
/// | Text | Operand |
/// |---|---|
/// | `xN`, `wN`, `sp` | ``Operand/register(_:)`` |
/// | `42`, `-42`, `#42` | ``Operand/constant(_:)`` |
/// | `[xN]`, `[xN, 16]`, `[xN, #-16]`, `[sp , 96]` | ``Operand/memory(base:offset:)`` |
/// | `[xN, xM]`, `[xN, xM, lsl #3]` | ``Operand/indexed(base:index:scale:offset:)`` |
/// | `[xN, #:lo12:sym]`, `[xN, #:lo12:sym+8]` (gcc) | ``Operand/symbol(name:offset:)`` |
/// | `xzr`, `wzr` | ``Operand/constant(_:)`` 0 |
///
/// Where this differs from libbpf (1.1.2 and 1.7), deliberately:
/// - `wN` is the low 32 bits of `xN`, so it maps to `xN`'s slot and the size truncates, as for
///   `%eax` on x86-64 (libbpf: `ENOENT`). `wsp` likewise maps to `sp`.
/// - `[xN, xM]` becomes an indexed operand with scale 1, and `[xN, xM, lsl #s]` one with scale
///   `1 << s`. libbpf's `sscanf` matches `[xN` and ignores the rest: undefined behaviour. A 32-bit
///   index (`[xN, wM, sxtw]`) is extended before the add, which a spec cannot say: refused.
/// - `[xN, #:lo12:sym]` is gcc's second half of `adrp xN, sym`: `xN` holds the 4 KiB page of
///   `sym` and `:lo12:` adds the low 12 bits of its address, so the operand is the memory at `sym`
///   itself. It becomes ``Operand/symbol(name:offset:)``, which the caller resolves through the
///   symbol table plus load bias, as for x86-64 `sym(%rip)`; the register is dropped because its
///   value is implied by the relocation. gcc's section anchors (`.LANCHOR2`) are local labels,
///   normally absent from `.symtab`, so resolving those fails there, not here. Other relocations
///   (`:got_lo12:` loads through the GOT, `:tprel_lo12:` is thread-local) are refused.
/// - gas's aliases `fp` (x29) and `lr` (x30) are accepted; libbpf knows only `xN` and `sp`.
/// - `xzr`/`wzr` always read as zero, so they are the constant 0 (libbpf: `ENOENT`).
/// - `x31` is refused: encoding 31 is `sp` or `xzr` depending on the instruction, and compilers
///   print those names.
/// - Whitespace around `,` and inside `[ ]` is allowed (`[sp , 96]`; libbpf 1.1.2: undefined
///   behaviour). Pre- and post-indexed forms (`[x0, 8]!`, `[x0], 8`) change the register and are
///   never an argument's location: refused.
enum AArch64 {
  /// `struct user_pt_regs { u64 regs[31]; u64 sp; u64 pc; u64 pstate; }`: `xN` at `8 * N`, `sp`
  /// at 248. `pc` (256) and `pstate` (264) are never printed for an argument and are refused.
  static let registers: [String: Register] = ArgumentParsing.registerTable(
    (0...30).map { n in (offset: 8 * n, names: ["x\(n)", "w\(n)"] + (aliases[n] ?? [])) }
      + [(248, ["sp", "wsp"])])

  /// gas's names for the frame pointer and link register.
  private static let aliases = [29: ["fp"], 30: ["lr"]]

  /// The zero registers: not in `pt_regs`, and not needed there.
  private static let zeroRegisters: Set<Substring> = ["xzr", "wzr"]

  /// Decodes one operand (the text after `@`, already trimmed).
  ///
  /// - Throws: `.unsupportedOperand` for text outside the grammar, a bad shift, a number that
  ///   overflows `Int64` or an unsupported relocation; `.unknownRegister` for a register that does
  ///   not exist or is not in `user_pt_regs` (SIMD and floating-point registers, `pc`).
  static func operand(_ text: Substring) throws(USDTError) -> Operand {
    if text.first == "[" { return try memory(text) }
    if text.first == "#" {
      guard let value = try ArgumentParsing.integer(text.dropFirst()) else {
        throw USDTError(.unsupportedOperand, "immediate \(text) is not an integer")
      }
      return .constant(value)
    }
    if let value = try ArgumentParsing.integer(text) { return .constant(value) }
    if zeroRegisters.contains(text) { return .constant(0) }
    return .register(try register(text))
  }

  // MARK: - Memory operands

  /// `[base]`, `[base, imm]`, `[base, index{, lsl #s}]` or `[base, #:lo12:sym]`.
  private static func memory(_ text: Substring) throws(USDTError) -> Operand {
    guard text.count >= 2, text.last == "]" else {
      throw USDTError(
        .unsupportedOperand,
        "expected [xN], [xN, offset] or [xN, xM]; pre- and post-indexed forms are not locations")
    }
    let inside = text.dropFirst().dropLast()
    guard !inside.contains("["), !inside.contains("]") else {
      throw USDTError(.unsupportedOperand, "nested brackets")
    }
    let parts = inside.split(separator: ",", omittingEmptySubsequences: false)
      .map(ArgumentParsing.trimmed)
    guard !parts.contains(where: \.isEmpty) else {
      throw USDTError(.unsupportedOperand, "empty part inside '[…]'")
    }
    let base = try baseRegister(parts[0])
    switch parts.count {
    case 1:
      return .memory(base: base, offset: 0)
    case 2:
      let offset = parts[1].first == "#" ? parts[1].dropFirst() : parts[1]
      if offset.first == ":" { return try lowTwelveBits(offset) }
      if let value = try ArgumentParsing.integer(offset) {
        return .memory(base: base, offset: value)
      }
      guard parts[1].first != "#" else {
        throw USDTError(.unsupportedOperand, "offset \(parts[1]) is not an integer")
      }
      return .indexed(base: base, index: try indexRegister(parts[1]), scale: 1, offset: 0)
    case 3:
      let index = try indexRegister(parts[1])
      return .indexed(base: base, index: index, scale: try scale(parts[2]), offset: 0)
    default:
      throw USDTError(.unsupportedOperand, "too many ',' inside '[…]'")
    }
  }

  /// `:lo12:sym[+N]`, the low 12 bits of `sym`'s address added to the page `adrp` left in the base.
  private static func lowTwelveBits(_ text: Substring) throws(USDTError) -> Operand {
    let rest = text.dropFirst()
    guard let colon = rest.firstIndex(of: ":") else {
      throw USDTError(.unsupportedOperand, "unterminated relocation \(text)")
    }
    let relocation = rest[..<colon]
    guard relocation == "lo12" else {
      let isThreadLocal =
        relocation.hasPrefix("tprel") || relocation.hasPrefix("dtprel")
        || relocation.hasPrefix("tlsdesc") || relocation.hasPrefix("gottprel")
      throw USDTError(
        .unsupportedOperand, "relocation :\(relocation): is not supported here",
        hint: isThreadLocal
          ? "thread-local variables cannot be read by a uprobe"
          : "only :lo12: names the symbol's own address (:got_lo12: names its GOT entry)")
    }
    guard let symbol = try ArgumentParsing.symbolWithAddend(rest[rest.index(after: colon)...])
    else {
      throw USDTError(.unsupportedOperand, "expected :lo12:symbol or :lo12:symbol+N")
    }
    return .symbol(name: symbol.name, offset: symbol.addend)
  }

  /// `lsl #s` (or `lsl s`) with `s` in 0…3: the index is multiplied by `1 << s`.
  private static func scale(_ text: Substring) throws(USDTError) -> Int {
    let words = text.split(whereSeparator: ArgumentParsing.isBlank)
    guard words.count == 2, words[0] == "lsl" else {
      throw USDTError(
        .unsupportedOperand,
        "only 'lsl #N' may follow an index register; extends (sxtw, uxtw) cannot be expressed")
    }
    let amount = words[1].first == "#" ? words[1].dropFirst() : words[1]
    guard let shift = ["0": 0, "1": 1, "2": 2, "3": 3][amount] else {
      throw USDTError(.unsupportedOperand, "index shift must be lsl #0 to lsl #3")
    }
    return 1 << shift
  }

  // MARK: - Registers

  /// An address base: `xN` or `sp`. A 32-bit register cannot address memory.
  private static func baseRegister(_ text: Substring) throws(USDTError) -> Register {
    let register = try register(text)
    guard text.first != "w" else {
      throw USDTError(.unsupportedOperand, "a base register is 64-bit (xN or sp), not \(text)")
    }
    return register
  }

  /// An index: `xN`. `wN` needs an extend the spec cannot express, and `sp` is not allowed.
  private static func indexRegister(_ text: Substring) throws(USDTError) -> Register {
    let register = try register(text)
    guard text.first == "x" else {
      throw USDTError(
        .unsupportedOperand,
        text.first == "w"
          ? "a 32-bit index register is sign- or zero-extended, which an indexed spec cannot express"
          : "\(text) cannot be an index register")
    }
    return register
  }

  /// Looks up a name in ``registers``, explaining why a name is refused.
  private static func register(_ text: Substring) throws(USDTError) -> Register {
    if let register = registers[String(text)] { return register }
    throw USDTError(.unknownRegister, "\(text): " + whyUnreadable(text))
  }

  /// Why a register name is not in the table; the common cases get a specific reason.
  private static func whyUnreadable(_ name: Substring) -> String {
    if ArgumentParsing.number(in: name, after: "x") == 31
      || ArgumentParsing.number(in: name, after: "w") == 31
    {
      return "register number 31 means sp or xzr depending on the instruction; write sp or xzr"
    }
    if zeroRegisters.contains(name) {
      return "the zero register cannot address memory"
    }
    if ["v", "q", "d", "s", "h", "b", "z", "p"].contains(where: {
      ArgumentParsing.number(in: name, after: $0) != nil
    }) {
      return "SIMD, floating-point and SVE registers are not saved in user_pt_regs"
    }
    if ["pc", "pstate", "nzcv"].contains(name) {
      return "not a general-purpose register"
    }
    let lower = name.lowercased()
    if lower != name, registers[lower] != nil {
      return "register names are case-sensitive; write \(lower)"
    }
    return "no such aarch64 register"
  }
}
