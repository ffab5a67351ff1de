/// The s390x operand grammar of USDT arguments, and its register table.
///
/// sdt.h hands each argument to the assembler through the constraint `"nor"`, so the compiler
/// prints one of:
///
/// | Text | Operand |
/// |---|---|
/// | `%r0`…`%r15` | ``Operand/register(_:)`` |
/// | `42`, `-1` | ``Operand/constant(_:)`` |
/// | `172(%r15)`, `(%r2)` | ``Operand/memory(base:offset:)`` |
/// | `8(%r2,%r3)`: displacement(index, base) | ``Operand/indexed(base:index:scale:offset:)`` |
///
/// s390x is big-endian: a 1-, 2- or 4-byte value in memory is the *first* bytes of the 8-byte
/// read, which the BPF side shifts down first (`arguments.md` §5). Register slots hold native
/// values and need nothing.
///
/// Where this differs from libbpf (1.1.2 and 1.7), deliberately:
/// - `(%r2)` without a displacement is accepted (libbpf: `EINVAL`).
/// - `D(%rX,%rB)` is decoded, with the first register the index and the second the base, as in
///   the instruction format `D2(X2,B2)` (libbpf: undefined behaviour).
/// - `%r0` as a base or index means "no register" (the hardware adds 0, not `%r0`'s value), so
///   an address built on it is absolute or ambiguous and is refused. As a value, `%r0` is `%r0`.
/// - `%r16` and above are an unknown register (`.unknownRegister`; libbpf says `EINVAL`).
/// - Whitespace inside an operand is an error, as on x86.
enum S390X {
  /// `user_pt_regs { unsigned long args[1]; psw_t psw; unsigned long gprs[16]; }`: the
  /// general-purpose registers start after `args` (8 bytes) and `psw` (16 bytes), so `%rN` is at
  /// `24 + 8 * N`.
  static let registers: [String: Register] = ArgumentParsing.registerTable(
    (0...15).map { n in (offset: 24 + 8 * n, names: ["r\(n)"]) })

  /// Decodes one operand (the text after `@`, already trimmed).
  ///
  /// - Throws: `.unsupportedOperand` for text outside the grammar (symbols included), `%r0` as an
  ///   address register or a number that overflows `Int64`; `.unknownRegister` for a register
  ///   that does not exist or is not in `pt_regs` (floating-point, vector, access registers).
  static func operand(_ text: Substring) throws(USDTError) -> Operand {
    if text.contains(where: ArgumentParsing.isBlank) {
      throw USDTError(.unsupportedOperand, "whitespace inside an operand")
    }
    if text.contains("(") || text.contains(")") { return try memory(text) }
    if text.first == "%" { return .register(try register(text)) }
    guard let value = try ArgumentParsing.integer(text) else {
      throw USDTError(
        .unsupportedOperand,
        "expected %rN, an integer or D(%rB); symbolic operands are not supported")
    }
    return .constant(value)
  }

  // MARK: - Memory operands

  /// `D(%rB)`, `(%rB)` or `D(%rX,%rB)`.
  private static func memory(_ text: Substring) throws(USDTError) -> Operand {
    guard let open = text.firstIndex(of: "("), text.last == ")" else {
      throw USDTError(.unsupportedOperand, "expected D(%rB) or D(%rX,%rB)")
    }
    let inside = text[text.index(after: open)..<text.index(before: text.endIndex)]
    guard !inside.contains("("), !inside.contains(")") else {
      throw USDTError(.unsupportedOperand, "nested parentheses")
    }
    let displacement = text[..<open]
    var offset: Int64 = 0
    if !displacement.isEmpty {
      guard let value = try ArgumentParsing.integer(displacement) else {
        throw USDTError(
          .unsupportedOperand,
          "displacement \(displacement) is not an integer (symbols are not supported)")
      }
      offset = value
    }
    let parts = inside.split(separator: ",", omittingEmptySubsequences: false)
    switch parts.count {
    case 1:
      return .memory(base: try addressRegister(parts[0]), offset: offset)
    case 2:
      let index = try addressRegister(parts[0])
      return .indexed(base: try addressRegister(parts[1]), index: index, scale: 1, offset: offset)
    default:
      throw USDTError(.unsupportedOperand, "too many ',' inside '(…)'")
    }
  }

  // MARK: - Registers

  /// A base or index register: any but `%r0`, which the hardware reads as 0 in an address.
  private static func addressRegister(_ text: Substring) throws(USDTError) -> Register {
    let register = try register(text)
    guard register.name != "r0" else {
      throw USDTError(
        .unsupportedOperand, "%r0 in an address means zero, not the register's value")
    }
    return register
  }

  /// Looks up `%name` in ``registers``, explaining why a name is refused.
  private static func register(_ text: Substring) throws(USDTError) -> Register {
    guard text.first == "%" else {
      throw USDTError(.unsupportedOperand, "expected a register such as %r2, not \"\(text)\"")
    }
    let name = text.dropFirst()
    if let register = registers[String(name)] { return register }
    throw USDTError(.unknownRegister, "\(text): " + whyUnreadable(name))
  }

  /// Why a register name is not in the table; the common cases get a specific reason.
  private static func whyUnreadable(_ name: Substring) -> String {
    if ["f", "v"].contains(where: { ArgumentParsing.number(in: name, after: $0) != nil }) {
      return "floating-point and vector registers are not saved in pt_regs"
    }
    if ["a", "c"].contains(where: { ArgumentParsing.number(in: name, after: $0) != nil }) {
      return "access and control registers are not argument values"
    }
    if let number = ArgumentParsing.number(in: name, after: "r"), number > 15 {
      return "s390x has general-purpose registers %r0 to %r15"
    }
    let lower = name.lowercased()
    if lower != name, registers[lower] != nil {
      return "register names are case-sensitive; write %\(lower)"
    }
    return "no such s390x register"
  }
}
