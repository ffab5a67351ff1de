/// The AT&T-syntax operand grammar of x86-64 and i386 USDT arguments, and the x86-64 register table.
///
/// sdt.h hands each argument to the assembler through the constraint `"nor"`, so the compiler
/// prints one of:
///
/// | Text | Operand |
/// |---|---|
/// | `%reg` (any width) | ``Operand/register(_:)`` |
/// | `$42`, `$-1` | ``Operand/constant(_:)`` |
/// | `disp(%reg)`, `(%reg)` | ``Operand/memory(base:offset:)`` |
/// | `disp(%base,%index,scale)`, any of disp/base/scale missing | ``Operand/indexed(base:index:scale:offset:)`` |
/// | `sym(%rip)`, `sym+N(%rip)`, `N+sym(%rip)`, `sym-N(%rip)` (x86-64) | ``Operand/symbol(name:offset:)`` |
/// | `N+sym@GOTOFF(%ebx)` (i386 PIC) | ``Operand/symbol(name:offset:)`` |
/// | `sym`, `sym+N` (absolute, non-PIC) | ``Operand/symbol(name:offset:)`` |
///
/// Where this differs from libbpf (1.1.2 and 1.7), deliberately:
/// - Numbers may be hexadecimal (`$0x10`, `-0x14(%rbp)`). libbpf reads them with `%ld` and refuses
///   them (`EINVAL`); no compiler was seen emitting them, but hand-written notes might.
/// - Symbolic displacements become ``Operand/symbol(name:offset:)``; libbpf refuses them. The
///   symbol names the value's absolute address, which the caller resolves through the symbol table
///   plus load bias. A numeric `N(%rip)` stays a dereference of `ip + N` as in libbpf, although at a
///   uprobe `ip` is the probe address, not the next instruction.
/// - `sym@GOTOFF(%reg)` is the i386 PIC form: the register holds the GOT address and `sym@GOTOFF`
///   is the symbol's distance from it, so their sum is the symbol's address. Other relocations
///   (`@GOT`, `@GOTPCREL`, TLS `@tpoff`…) add an indirection or a thread pointer and are refused.
/// - A missing `)` is an error; in libbpf it is undefined behaviour (sscanf's count matches
///   without the `)`, leaving the consumed length unset).
/// - Whitespace inside an operand is an error (libbpf reads it into the register name: `ENOENT`).
enum X86 {
  /// x86-64 `struct pt_regs` (168 bytes) slots and every name a compiler may print for them.
  ///
  /// `ah`/`bh`/`ch`/`dh` are bits 8–15 of a slot. x86 is little-endian, so reading the slot from
  /// one byte further on puts them in the low byte, where a 1-byte argument's truncation keeps
  /// them: they are their own "slot" at offset + 1 (libbpf refuses them). `orig_rax` (120),
  /// `cs`, `eflags` and `ss` are never printed for an argument and are refused, as in libbpf.
  static let registers: [String: Register] = ArgumentParsing.registerTable([
    (0, ["r15", "r15d", "r15w", "r15b"]),
    (8, ["r14", "r14d", "r14w", "r14b"]),
    (16, ["r13", "r13d", "r13w", "r13b"]),
    (24, ["r12", "r12d", "r12w", "r12b"]),
    (32, ["rbp", "ebp", "bp", "bpl"]),
    (40, ["rbx", "ebx", "bx", "bl"]),
    (48, ["r11", "r11d", "r11w", "r11b"]),
    (56, ["r10", "r10d", "r10w", "r10b"]),
    (64, ["r9", "r9d", "r9w", "r9b"]),
    (72, ["r8", "r8d", "r8w", "r8b"]),
    (80, ["rax", "eax", "ax", "al"]),
    (88, ["rcx", "ecx", "cx", "cl"]),
    (96, ["rdx", "edx", "dx", "dl"]),
    (104, ["rsi", "esi", "si", "sil"]),
    (112, ["rdi", "edi", "di", "dil"]),
    (128, ["rip", "eip"]),
    (152, ["rsp", "esp", "sp", "spl"]),
    (41, ["bh"]), (81, ["ah"]), (89, ["ch"]), (97, ["dh"]),
  ])

  /// Registers that hold bits 8–15 of a slot, valid only for 1-byte arguments.
  static let highByteRegisters: Set<String> = ["ah", "bh", "ch", "dh"]

  /// Decodes one operand (the text after `@`, already trimmed).
  ///
  /// - Parameter is64Bit: `true` for x86-64 (``registers``), `false` for i386 (``I386/registers``).
  /// - Throws: `.unsupportedOperand` for text outside the grammar, a bad scale, a number that
  ///   overflows `Int64` or an unsupported symbolic form; `.unknownRegister` for a register that does
  ///   not exist or is not in `pt_regs` (high bytes, vector, segment and TLS operands).
  static func operand(_ text: Substring, is64Bit: Bool) throws(USDTError) -> Operand {
    if text.contains(where: ArgumentParsing.isBlank) {
      throw USDTError(.unsupportedOperand, "whitespace inside an operand")
    }
    switch text.first {
    case "$":
      let immediate = text.dropFirst()
      guard let value = try ArgumentParsing.integer(immediate) else {
        throw USDTError(
          .unsupportedOperand,
          "immediate \(text) is not an integer (symbolic immediates are not supported)")
      }
      return .constant(value)
    case "%":
      return .register(try register(text, is64Bit: is64Bit))
    default:
      return try memory(text, is64Bit: is64Bit)
    }
  }

  // MARK: - Memory operands

  /// `disp(base,index,scale)` with any part but one register optional, or a bare symbolic address.
  private static func memory(_ text: Substring, is64Bit: Bool) throws(USDTError) -> Operand {
    guard let open = text.firstIndex(of: "(") else {
      // No register: an absolute address. Only a symbol is meaningful; a number would be an
      // address fixed at link time, which sdt.h never produces for a value.
      guard case .symbol(let name, nil, let addend) = try displacement(text) else {
        throw USDTError(
          .unsupportedOperand, "expected %reg, $imm or disp(%reg), not an absolute address")
      }
      return .symbol(name: name, offset: addend)
    }
    guard let close = text.firstIndex(of: ")") else {
      throw USDTError(.unsupportedOperand, "unclosed '('")
    }
    guard text.index(after: close) == text.endIndex, close > open else {
      throw USDTError(.unsupportedOperand, "unexpected text after ')'")
    }
    let inside = text[text.index(after: open)..<close]
    guard !inside.contains("(") else {
      throw USDTError(.unsupportedOperand, "nested '('")
    }
    let parts = inside.split(separator: ",", omittingEmptySubsequences: false)
    let displacement = try displacement(text[..<open])

    switch parts.count {
    case 1:
      let base = try register(parts[0], is64Bit: is64Bit)
      switch displacement {
      case .number(let offset):
        return .memory(base: base, offset: offset)
      case .symbol(let name, nil, let addend) where is64Bit && base.name == "rip":
        return .symbol(name: name, offset: addend)
      case .symbol(let name, "GOTOFF", let addend) where !is64Bit:
        return .symbol(name: name, offset: addend)
      case .symbol(_, let relocation?, _):
        throw USDTError(
          .unsupportedOperand, "symbol relocation @\(relocation) is not supported here",
          hint: threadLocalRelocations.contains(relocation.lowercased())
            ? "thread-local variables cannot be read by a uprobe" : nil)
      case .symbol:
        throw USDTError(
          .unsupportedOperand,
          is64Bit
            ? "a symbolic displacement is only supported relative to %rip"
            : "a symbolic displacement is only supported as sym@GOTOFF(%reg) or a bare symbol")
      }
    case 2, 3:
      let base = parts[0].isEmpty ? nil : try register(parts[0], is64Bit: is64Bit)
      let index = try register(parts[1], is64Bit: is64Bit)
      let scale = parts.count == 3 ? parts[2] : "1"
      guard let scale = ["1": 1, "2": 2, "4": 4, "8": 8][scale] else {
        throw USDTError(.unsupportedOperand, "SIB scale must be 1, 2, 4 or 8")
      }
      guard case .number(let offset) = displacement else {
        throw USDTError(
          .unsupportedOperand, "a symbolic displacement with an index register is not supported")
      }
      return .indexed(base: base, index: index, scale: scale, offset: offset)
    default:
      throw USDTError(.unsupportedOperand, "too many ',' inside '(…)'")
    }
  }

  /// gas relocation suffixes that address thread-local storage.
  private static let threadLocalRelocations: Set<String> = [
    "tpoff", "ntpoff", "dtpoff", "gottpoff", "gotntpoff", "indntpoff", "tlsgd", "tlsld", "tlsldm",
    "tlsdesc",
  ]

  /// A displacement before `(`: a number, or one symbol plus numeric addends.
  private enum Displacement {
    case number(Int64)
    case symbol(name: String, relocation: String?, addend: Int64)
  }

  /// Reads `[-]N`, `sym`, `sym+N`, `sym-N`, `N+sym`, where `sym` may carry `@RELOC`; empty is 0.
  private static func displacement(_ text: Substring) throws(USDTError) -> Displacement {
    var addend: Int64 = 0
    var symbol: (name: String, relocation: String?)?
    for (isNegative, term) in terms(text) {
      let signed = isNegative ? "-" + term : String(term)
      if let value = try ArgumentParsing.integer(signed[...]) {
        let (sum, overflow) = addend.addingReportingOverflow(value)
        guard !overflow else { throw USDTError(.unsupportedOperand, "displacement overflows 64 bits") }
        addend = sum
      } else if symbol == nil, !isNegative, let parsed = self.symbol(term) {
        symbol = parsed
      } else {
        throw USDTError(.unsupportedOperand, "cannot read displacement \(text)")
      }
    }
    guard let symbol else { return .number(addend) }
    return .symbol(name: symbol.name, relocation: symbol.relocation, addend: addend)
  }

  /// Splits `a+b-c` into signed terms; a leading sign belongs to the first term. Empty text has none.
  private static func terms(_ text: Substring) -> [(isNegative: Bool, text: Substring)] {
    guard !text.isEmpty else { return [] }
    var terms: [(isNegative: Bool, text: Substring)] = []
    var start = text.startIndex
    var isNegative = false
    if text.first == "-" || text.first == "+" {
      isNegative = text.first == "-"
      start = text.index(after: start)
    }
    var position = start
    while position < text.endIndex {
      let character = text[position]
      if character == "+" || character == "-" {
        terms.append((isNegative, text[start..<position]))
        isNegative = character == "-"
        start = text.index(after: position)
      }
      position = text.index(after: position)
    }
    terms.append((isNegative, text[start...]))
    return terms
  }

  /// `name` or `name@RELOC`, where a name is `[A-Za-z_.][A-Za-z0-9_.$]*` as gas spells symbols.
  private static func symbol(_ text: Substring) -> (name: String, relocation: String?)? {
    let at = text.firstIndex(of: "@")
    let name = text[..<(at ?? text.endIndex)]
    guard let first = name.first, first.isASCII, first.isLetter || first == "_" || first == ".",
      name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.$".contains($0)) })
    else { return nil }
    guard let at else { return (String(name), nil) }
    let relocation = text[text.index(after: at)...]
    guard !relocation.isEmpty, relocation.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
    else { return nil }
    return (String(name), String(relocation))
  }

  // MARK: - Registers

  /// Looks up `%name` in the architecture's table, explaining why a name is refused.
  private static func register(_ text: Substring, is64Bit: Bool) throws(USDTError) -> Register {
    guard text.first == "%" else {
      throw USDTError(.unsupportedOperand, "expected a register such as %rax, not \"\(text)\"")
    }
    let name = String(text.dropFirst())
    let table = is64Bit ? registers : I386.registers
    if let register = table[name] { return register }
    throw USDTError(.unknownRegister, "%\(name): " + whyUnreadable(name, is64Bit: is64Bit))
  }

  /// Why a register name is not in the table; the common cases get a specific reason.
  private static func whyUnreadable(_ name: String, is64Bit: Bool) -> String {
    let lower = name.lowercased()
    if let colon = name.firstIndex(of: ":") {
      return "segment-relative operand (%\(name[..<colon]):, thread-local storage); "
        + "segment bases are not in pt_regs, so a uprobe cannot read it"
    }
    let isVector =
      ["xmm", "ymm", "zmm", "mm", "k"].contains { prefix in
        lower.count > prefix.count && lower.hasPrefix(prefix)
          && lower.dropFirst(prefix.count).allSatisfy(ArgumentParsing.isDecimalDigit)
      } || lower == "st" || lower.hasPrefix("st(")
    if isVector {
      return "vector, mask and x87 registers are not saved in pt_regs"
    }
    if ["cs", "ds", "es", "fs", "gs", "ss"].contains(name) {
      return "segment registers are not argument values"
    }
    if ["orig_rax", "orig_eax", "eflags", "rflags", "fs_base", "gs_base"].contains(name) {
      return "not a general-purpose register"
    }
    let table = is64Bit ? registers : I386.registers
    if lower != name, table[lower] != nil {
      return "register names are case-sensitive; write %\(lower)"
    }
    if !is64Bit, registers[name] != nil {
      return "i386 has no such register (r8-r15 exist only on x86-64)"
    }
    return "no such \(is64Bit ? "x86-64" : "i386") register"
  }
}
