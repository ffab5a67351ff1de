/// The arm32 operand grammar of USDT arguments, and its register table.
///
/// sdt.h uses the constraint `"g"` on arm (the register, memory or immediate the compiler likes),
/// which prints as:
///
/// | Text | Operand |
/// |---|---|
/// | `r4`, `fp`, `ip`, `sp`, `lr`, `pc`, `r11` | ``Operand/register(_:)`` |
/// | `#42`, `#-1` (and `42`) | ``Operand/constant(_:)`` |
/// | `[r3]`, `[fp, #96]`, `[sp, #-8]` (and `[sp, -8]`) | ``Operand/memory(base:offset:)`` |
/// | `[r0, r1]`, `[r0, r1, lsl #2]` | ``Operand/indexed(base:index:scale:offset:)`` |
///
/// Slots are 4 bytes, so an 8-byte value named by one register (`-8@r4`) is in a register pair
/// and is refused by ``ArgumentParsing``; in memory (`8f@[r1]`) it is whole.
///
/// Where this differs from libbpf 1.7 (1.1.2 has no arm32 parser), deliberately:
/// - `r11`…`r15` written by number are accepted as `fp`, `ip`, `sp`, `lr`, `pc`, and gas's `sb`
///   (r9) and `sl` (r10) too; libbpf knows only `r0`…`r10` and the five names (`ENOENT`).
/// - `[rN, rM]` is decoded (libbpf: undefined behaviour, `sscanf` matches `[rN`). A subtracted
///   index (`[r0, -r1]`), other shifts (`asr`, `ror`) and writeback (`[r0, #4]!`) are refused.
/// - `pc` is refused as an address base: it reads as the instruction's address + 8 (+ 4 in Thumb),
///   which depends on where the assembler put the probe's nop, not on `pt_regs`.
/// - The `#` before an immediate is optional, as in gas's unified syntax (and as on aarch64).
/// - Whitespace around `,` and inside `[ ]` is allowed.
enum ARM {
  /// `struct pt_regs { long uregs[18]; }`: `rN` at `4 * N`; r11–r15 by their usual names.
  static let registers: [String: Register] = ArgumentParsing.registerTable(
    (0...8).map { n in (offset: 4 * n, names: ["r\(n)"]) } + [
      (36, ["r9", "sb"]),
      (40, ["r10", "sl"]),
      (44, ["fp", "r11"]),
      (48, ["ip", "r12"]),
      (52, ["sp", "r13"]),
      (56, ["lr", "r14"]),
      (60, ["pc", "r15"]),
    ])

  /// Decodes one operand (the text after `@`, already trimmed).
  ///
  /// - Throws: `.unsupportedOperand` for text outside the grammar, a bad shift or a number that
  ///   overflows `Int64`; `.unknownRegister` for a register that does not exist or is not in
  ///   `pt_regs` (VFP and NEON registers).
  static func operand(_ text: Substring) throws(USDTError) -> Operand {
    if text.first == "[" { return try memory(text) }
    if text.first == "#" {
      guard let value = try ArgumentParsing.integer(text.dropFirst()) else {
        throw USDTError(.unsupportedOperand, "immediate \(text) is not an integer")
      }
      return .constant(value)
    }
    if let value = try ArgumentParsing.integer(text) { return .constant(value) }
    return .register(try register(text))
  }

  // MARK: - Memory operands

  /// `[base]`, `[base, #imm]`, `[base, index{, lsl #s}]`.
  private static func memory(_ text: Substring) throws(USDTError) -> Operand {
    guard text.count >= 2, text.last == "]" else {
      throw USDTError(
        .unsupportedOperand,
        "expected [rN], [rN, #offset] or [rN, rM]; writeback forms are not locations")
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
    let base = try register(parts[0])
    guard base.name != "pc" else {
      throw USDTError(
        .unsupportedOperand,
        "pc-relative addresses depend on where the probe's instruction was placed, not on pt_regs")
    }
    switch parts.count {
    case 1:
      return .memory(base: base, offset: 0)
    case 2:
      let offset = parts[1].first == "#" ? parts[1].dropFirst() : parts[1]
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

  /// `lsl #s` with `s` in 0…3: the index is multiplied by `1 << s`.
  private static func scale(_ text: Substring) throws(USDTError) -> Int {
    let words = text.split(whereSeparator: ArgumentParsing.isBlank)
    guard words.count == 2, words[0] == "lsl", words[1].first == "#",
      let shift = ["0": 0, "1": 1, "2": 2, "3": 3][words[1].dropFirst()]
    else {
      throw USDTError(
        .unsupportedOperand, "only 'lsl #0' to 'lsl #3' may follow an index register")
    }
    return 1 << shift
  }

  // MARK: - Registers

  /// An index register, added to the base; a subtracted one (`-r1`) cannot be expressed.
  private static func indexRegister(_ text: Substring) throws(USDTError) -> Register {
    guard text.first != "-", text.first != "+" else {
      throw USDTError(
        .unsupportedOperand, "a signed index register (\(text)) cannot be expressed in a spec")
    }
    let index = try register(text)
    guard index.name != "pc" else {
      throw USDTError(.unsupportedOperand, "pc cannot be an index register")
    }
    return index
  }

  /// Looks up a name in ``registers``, explaining why a name is refused.
  private static func register(_ text: Substring) throws(USDTError) -> Register {
    if let register = registers[String(text)] { return register }
    throw USDTError(.unknownRegister, "\(text): " + whyUnreadable(text))
  }

  /// Why a register name is not in the table; the common cases get a specific reason.
  private static func whyUnreadable(_ name: Substring) -> String {
    if ["s", "d", "q"].contains(where: { ArgumentParsing.number(in: name, after: $0) != nil }) {
      return "VFP and NEON registers are not saved in pt_regs"
    }
    if ["cpsr", "apsr", "spsr", "fpscr"].contains(name.lowercased()) {
      return "not a general-purpose register"
    }
    let lower = name.lowercased()
    if lower != name, registers[lower] != nil {
      return "register names are case-sensitive; write \(lower)"
    }
    return "no such arm register"
  }
}
