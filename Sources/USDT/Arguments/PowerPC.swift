/// The PowerPC operand grammar of USDT arguments (ppc64le, ppc64, ppc), and its register tables.
///
/// sdt.h uses the constraint `"nZr"` on PowerPC and the template `%I[id]%[id]`, where `%I` prints
/// `i` before an immediate. Register names are bare numbers unless gcc runs with `-mregnames`:
///
/// | Text | Operand |
/// |---|---|
/// | `3`, `%r3` | ``Operand/register(_:)`` (r3) |
/// | `i42`, `i-1` | ``Operand/constant(_:)`` |
/// | `0(3)`, `-8(31)`, `16(%r1)` | ``Operand/memory(base:offset:)`` |
/// | `0,9` (`Z`: RA=0 means no base) | ``Operand/memory(base:offset:)`` |
/// | `3,9`, `%r3,%r9` (`Z`: indexed, X-form) | ``Operand/indexed(base:index:scale:offset:)`` |
///
/// A bare number is therefore a *register*, never a constant. ppc (32-bit) has the same grammar
/// with 4-byte slots; an 8-byte value named by one register is in a register pair there and is
/// refused by ``ArgumentParsing``. ppc64 (big-endian) memory reads are shifted as on s390x.
///
/// libbpf has no PowerPC parser (`ENOTSUP`). The forms follow the measured clang notes
/// (`-4@0(3)`, `-4@i42`) and gcc's `Z` printing (`RA,RB`, as bcc's parser also reads them).
/// Deliberately:
/// - An X-form address is `(RA|0) + RB`: register 0 as `RA` means zero, so `0,9` is memory at
///   `r9` and `3,9` is `r3 + r9` with scale 1. In `D(RA)`, `RA` = 0 would be an absolute
///   address: refused.
/// - Symbolic displacements (`.LC0@toc@l(9)`) and symbolic immediates are refused.
/// - Whitespace inside an operand is an error, as on x86.
enum PowerPC {
  /// `struct pt_regs { unsigned long gpr[32]; unsigned long nip; … }`: `rN` at `8 * N` on ppc64.
  /// `nip`, `msr`, `ctr`, `link`, `xer` and `ccr` follow but never hold an argument.
  static let registers: [String: Register] = table(slotSize: 8)

  /// The same struct on 32-bit ppc, with 4-byte slots.
  static let registers32: [String: Register] = table(slotSize: 4)

  private static func table(slotSize: Int) -> [String: Register] {
    ArgumentParsing.registerTable((0...31).map { n in (offset: slotSize * n, names: ["r\(n)"]) })
  }

  /// Decodes one operand (the text after `@`, already trimmed).
  ///
  /// - Parameter is64Bit: `true` for ppc64le and ppc64 (``registers``), `false` for ppc.
  /// - Throws: `.unsupportedOperand` for text outside the grammar (symbols included), register 0
  ///   as a displacement base or a number that overflows `Int64`; `.unknownRegister` for a register
  ///   that does not exist or is not a general-purpose register.
  static func operand(_ text: Substring, is64Bit: Bool) throws(USDTError) -> Operand {
    if text.contains(where: ArgumentParsing.isBlank) {
      throw USDTError(.unsupportedOperand, "whitespace inside an operand")
    }
    if text.first == "i" {
      guard let value = try ArgumentParsing.integer(text.dropFirst()) else {
        throw USDTError(.unsupportedOperand, "immediate \(text) is not an integer")
      }
      return .constant(value)
    }
    if text.contains("(") || text.contains(")") { return try memory(text, is64Bit: is64Bit) }
    if text.contains(",") { return try indexed(text, is64Bit: is64Bit) }
    return .register(try register(text, is64Bit: is64Bit))
  }

  // MARK: - Memory operands

  /// `D(RA)`: displacement from a base register, which must not be register 0.
  private static func memory(_ text: Substring, is64Bit: Bool) throws(USDTError) -> Operand {
    guard let open = text.firstIndex(of: "("), text.last == ")" else {
      throw USDTError(.unsupportedOperand, "expected D(RA)")
    }
    let inside = text[text.index(after: open)..<text.index(before: text.endIndex)]
    guard !inside.contains("("), !inside.contains(")"), !inside.contains(",") else {
      throw USDTError(.unsupportedOperand, "expected one register inside '(…)'")
    }
    let displacement = text[..<open]
    guard let offset = try displacement.isEmpty ? 0 : ArgumentParsing.integer(displacement) else {
      throw USDTError(
        .unsupportedOperand,
        "displacement \(displacement) is not an integer (symbolic TOC offsets are not supported)")
    }
    let base = try register(inside, is64Bit: is64Bit)
    guard base.name != "r0" else {
      throw USDTError(
        .unsupportedOperand, "register 0 as a base means zero: an absolute address, not r0 + D")
    }
    return .memory(base: base, offset: offset)
  }

  /// `RA,RB`: the X-form address `(RA|0) + RB`.
  private static func indexed(_ text: Substring, is64Bit: Bool) throws(USDTError) -> Operand {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
    guard parts.count == 2 else {
      throw USDTError(.unsupportedOperand, "expected RA,RB")
    }
    let first = try register(parts[0], is64Bit: is64Bit)
    let second = try register(parts[1], is64Bit: is64Bit)
    if first.name == "r0" { return .memory(base: second, offset: 0) }
    return .indexed(base: first, index: second, scale: 1, offset: 0)
  }

  // MARK: - Registers

  /// `N` or `%rN`, looked up in the table for the target's width.
  private static func register(_ text: Substring, is64Bit: Bool) throws(USDTError) -> Register {
    let name: Substring
    if !text.isEmpty, text.allSatisfy(ArgumentParsing.isDecimalDigit) {
      name = Substring("r" + text)
    } else if text.first == "%" {
      name = text.dropFirst()
    } else {
      throw USDTError(
        .unsupportedOperand,
        "expected a register (3 or %r3), an immediate (i42) or memory (8(3), 3,4), not \"\(text)\"")
    }
    let table = is64Bit ? registers : registers32
    if let register = table[String(name)] { return register }
    throw USDTError(.unknownRegister, "\(text): " + whyUnreadable(name))
  }

  /// Why a register name is not in the table; the common cases get a specific reason.
  private static func whyUnreadable(_ name: Substring) -> String {
    if ["f", "v", "vs"].contains(where: { ArgumentParsing.number(in: name, after: $0) != nil }) {
      return "floating-point and vector registers are not saved in pt_regs"
    }
    if ["lr", "ctr", "xer", "msr"].contains(name) || name.hasPrefix("cr") {
      return "only general-purpose registers hold an argument"
    }
    if let number = ArgumentParsing.number(in: name, after: "r"), number > 31 {
      return "PowerPC has general-purpose registers 0 to 31"
    }
    return "no such PowerPC register"
  }
}
