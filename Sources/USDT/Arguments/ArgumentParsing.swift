/// Turns a probe's argument string (`-4@-20(%rbp) 8@%rax -4@$42`) into typed ``ArgumentSpec``s.
///
/// The pipeline, in order:
/// 1. ``parse(_:architecture:)`` splits the note's string into argument tokens on whitespace
///    *before* any operand grammar runs. libbpf ≥ 1.7 matches its SIB pattern against the rest of
///    the string, so `-4@-20(%rbp) 1@(%rax,%rbx)` reads the register `"rbp) 1@(%rax"` there;
///    splitting first makes that impossible.
/// 2. ``parseArgument(_:architecture:index:)`` reads the architecture-neutral prefix
///    `[+|-]SIZE[f]@` (sign, size, float flag), as libbpf's `parse_usdt_spec` does.
/// 3. The file's architecture's grammar (`X86` for x86-64 and i386, `AArch64`, `ARM`, `RISCV`,
///    `S390X`, `PowerPC`, `LoongArch`: one file per architecture) decodes the operand and maps
///    register names to `pt_regs` slots through its register table.
/// 4. The size is checked last, after the operand, as libbpf ≥ 1.2 does: `3@%ah` reports the
///    register, `3@%eax` the size.
/// 5. On 32-bit targets an 8-byte value named by one register is refused: it lives in a register
///    pair, and reading the one slot would silently return half of it.
///
/// The architecture is the *file's* (`e_machine`), never the host's, so foreign binaries can be listed.
public enum ArgumentParsing {
  /// libbpf's `USDT_MAX_ARG_CNT`: the BPF-side spec has room for exactly this many arguments.
  public static let maxArguments = 12

  /// Parses a whole argument string from a `.note.stapsdt` note.
  ///
  /// Arguments are separated by runs of C `isspace` blanks. Whitespace around `@` is allowed
  /// (`4 @ %eax` is one argument, as libbpf's `" @ "` pattern accepts it): a word starts a new
  /// argument only if it looks like `[+|-]SIZE[f]@…` (or `[+|-]SIZE[f]` followed by a word starting
  /// with `@`); any other word belongs to the argument before it, whose operand then contains
  /// whitespace and is rejected by the grammar with that argument's index.
  ///
  /// An empty or blank string, or one starting with `:`, means the probe has no arguments
  /// (sdt.h's convention, libbpf's `arg_cnt = 0`); that holds for every architecture, so probes
  /// without arguments work even where no operand grammar exists yet.
  ///
  /// - Throws: ``USDTError`` with ``USDTError/argument`` and ``USDTError/input`` set to the failing
  ///   argument: `.unsupportedOperand` (grammar, size, an 8-byte register operand on a 32-bit
  ///   target, more than ``maxArguments`` arguments), `.unknownRegister`,
  ///   `.unsupportedArchitecture`. Arguments are parsed in order and the first failure is thrown,
  ///   as in libbpf.
  public static func parse(
    _ arguments: String, architecture: Architecture
  ) throws(USDTError) -> [ArgumentSpec] {
    if arguments.first == ":" { return [] }
    var specs: [ArgumentSpec] = []
    for (index, token) in tokens(arguments).enumerated() {
      guard index < maxArguments else {
        throw USDTError(
          .unsupportedOperand, "more than \(maxArguments) arguments", argument: index,
          input: String(token), hint: "libbpf's spec holds at most \(maxArguments) arguments")
      }
      specs.append(try parseArgument(String(token), architecture: architecture, index: index))
    }
    return specs
  }

  /// Parses a whole argument string, marking each argument that cannot be read as unavailable
  /// instead of failing the probe: libbpf refuses the whole probe, bcc drops the argument and
  /// shifts the rest; here the probe attaches, the other arguments keep their positions, and
  /// only the unreadable one reports an error.
  ///
  /// - Returns: one spec per argument, where an unreadable one has operand ``Operand/unavailable(reason:)``
  ///   and whatever size, sign and float flag its prefix gave (8 bytes, unsigned when even that
  ///   is unreadable), plus the error for each such argument.
  /// - Throws: only for the string as a whole: more than ``maxArguments`` arguments.
  public static func parseEach(
    _ arguments: String, architecture: Architecture
  ) throws(USDTError) -> (specs: [ArgumentSpec], unavailable: [USDTError]) {
    if arguments.first == ":" { return ([], []) }
    var specs: [ArgumentSpec] = []
    var unavailable: [USDTError] = []
    for (index, token) in tokens(arguments).enumerated() {
      guard index < maxArguments else {
        throw USDTError(
          .unsupportedOperand, "more than \(maxArguments) arguments", argument: index,
          input: String(token), hint: "libbpf's spec holds at most \(maxArguments) arguments")
      }
      do throws(USDTError) {
        specs.append(try parseArgument(String(token), architecture: architecture, index: index))
      } catch {
        unavailable.append(error)
        specs.append(unavailableSpec(token, reason: error.message))
      }
    }
    return (specs, unavailable)
  }

  /// The spec of an argument that cannot be read, keeping what its prefix says.
  private static func unavailableSpec(_ token: Substring, reason: String) -> ArgumentSpec {
    let parts = token.split(separator: "@", maxSplits: 1)
    var prefix = trimmed(parts.first ?? "")
    let isSigned = prefix.first == "-"
    if prefix.first == "-" || prefix.first == "+" { prefix = prefix.dropFirst() }
    let isFloat = prefix.last == "f"
    if isFloat { prefix = prefix.dropLast() }
    let size = Int(prefix).flatMap { [1, 2, 4, 8].contains($0) ? $0 : nil }
    return ArgumentSpec(
      size: size ?? 8, isSigned: size != nil && isSigned, isFloat: size != nil && isFloat,
      operand: .unavailable(reason: reason),
      text: parts.count == 2 ? String(trimmed(parts[1])) : String(token))
  }

  /// Parses one argument token `[+|-]SIZE[f]@OPERAND`.
  ///
  /// A leading `-` means signed; `+` or no sign means unsigned (libbpf's `%d` accepts `+`). `f`
  /// marks an IEEE float or double whose raw bits sit in a general register or memory (sdt.h emits
  /// it for real types; libbpf refuses it). Whitespace around the token and around `@` is ignored.
  ///
  /// - Parameters:
  ///   - index: the argument's 0-based position, recorded in any error.
  /// - Throws: ``USDTError`` with `argument: index` and `input: token`: `.unsupportedOperand` for a
  ///   malformed prefix, operand or size (only 1, 2, 4, 8) or for an 8-byte value named by one
  ///   register of a 32-bit target (a register pair), `.unknownRegister` for a register that
  ///   does not exist or that a uprobe cannot read, `.unsupportedArchitecture` where no grammar exists.
  public static func parseArgument(
    _ token: String, architecture: Architecture, index: Int
  ) throws(USDTError) -> ArgumentSpec {
    do throws(USDTError) {
      return try argument(token[...], architecture: architecture)
    } catch {
      var error = error
      if error.argument == nil { error.argument = index }
      if error.input == nil { error.input = token }
      throw error
    }
  }

  /// The operand grammar of `architecture`; one case per architecture file.
  static func operand(
    _ text: Substring, architecture: Architecture
  ) throws(USDTError) -> Operand {
    switch architecture {
    case .x86_64:
      return try X86.operand(text, is64Bit: true)
    case .i386:
      return try X86.operand(text, is64Bit: false)
    case .aarch64:
      return try AArch64.operand(text)
    case .arm:
      return try ARM.operand(text)
    case .riscv64:
      return try RISCV.operand(text, is64Bit: true)
    case .riscv32:
      return try RISCV.operand(text, is64Bit: false)
    case .s390x:
      return try S390X.operand(text)
    case .ppc64le, .ppc64:
      return try PowerPC.operand(text, is64Bit: true)
    case .ppc:
      return try PowerPC.operand(text, is64Bit: false)
    case .loongarch64:
      return try LoongArch.operand(text)
    case .mips:
      throw USDTError(
        .unsupportedArchitecture, "no argument parser for \(architecture.rawValue) yet")
    }
  }

  /// Whether `pt_regs` slots are 4 bytes wide, so a 64-bit value occupies a pair of registers.
  ///
  /// mips has no grammar yet (and one `e_machine` for o32 and n64), so nothing reaches this for it.
  static func hasFourByteRegisters(_ architecture: Architecture) -> Bool {
    switch architecture {
    case .i386, .arm, .riscv32, .ppc: true
    case .x86_64, .aarch64, .riscv64, .s390x, .ppc64le, .ppc64, .loongarch64, .mips: false
    }
  }

  /// Builds a name → register map from slots listed as `(offset, [canonical, aliases…])`.
  ///
  /// Every alias maps to the canonical register of its slot: the argument size, not the name,
  /// decides how many bytes count (sdt.h's "bottom line"). Duplicate names are a bug in a table,
  /// not in input, and trap at first use.
  static func registerTable(_ slots: [(offset: Int, names: [String])]) -> [String: Register] {
    var table: [String: Register] = [:]
    for slot in slots {
      guard let canonical = slot.names.first else { continue }
      let register = Register(name: canonical, offset: slot.offset)
      for name in slot.names {
        precondition(table.updateValue(register, forKey: name) == nil, "duplicate register \(name)")
      }
    }
    return table
  }

  /// C `isspace`: what libbpf's `sscanf` patterns skip between and around arguments.
  static func isBlank(_ character: Character) -> Bool {
    character.isASCII && character.isWhitespace
  }

  // MARK: - Tokens

  /// Splits the string into argument tokens, each a slice of `arguments` (so errors quote it verbatim).
  static func tokens(_ arguments: String) -> [Substring] {
    let words = arguments.split(whereSeparator: isBlank)
    var tokens: [Substring] = []
    for (position, word) in words.enumerated() {
      let next = position + 1 < words.count ? words[position + 1] : nil
      if let current = tokens.last,
        current.hasSuffix("@") || word.hasPrefix("@") || !startsArgument(word, next: next)
      {
        tokens[tokens.count - 1] = arguments[current.startIndex..<word.endIndex]
      } else {
        tokens.append(word)
      }
    }
    return tokens
  }

  /// Whether `word` opens an argument: `[+|-]SIZE[f]@…`, or `[+|-]SIZE[f]` before a word starting with `@`.
  private static func startsArgument(_ word: Substring, next: Substring?) -> Bool {
    if let at = word.firstIndex(of: "@") { return isSizePrefix(word[..<at]) }
    return isSizePrefix(word) && next?.hasPrefix("@") == true
  }

  private static func isSizePrefix(_ text: Substring) -> Bool {
    var rest = text
    if rest.first == "+" || rest.first == "-" { rest = rest.dropFirst() }
    if rest.last == "f" { rest = rest.dropLast() }
    return !rest.isEmpty && rest.allSatisfy(isDecimalDigit)
  }

  static func isDecimalDigit(_ character: Character) -> Bool {
    ("0"..."9").contains(character)
  }

  // MARK: - One argument

  private static func argument(
    _ token: Substring, architecture: Architecture
  ) throws(USDTError) -> ArgumentSpec {
    guard let at = token.firstIndex(of: "@") else {
      throw USDTError(.unsupportedOperand, "expected [+|-]SIZE[f]@OPERAND")
    }
    var prefix = trimmed(token[..<at])
    let operandText = trimmed(token[token.index(after: at)...])

    let isSigned = prefix.first == "-"
    if prefix.first == "-" || prefix.first == "+" { prefix = prefix.dropFirst() }
    let isFloat = prefix.last == "f"
    if isFloat { prefix = prefix.dropLast() }
    guard !prefix.isEmpty, prefix.allSatisfy(isDecimalDigit) else {
      throw USDTError(.unsupportedOperand, "the argument size before '@' is not a decimal number")
    }
    guard !operandText.isEmpty else {
      throw USDTError(.unsupportedOperand, "nothing after '@'")
    }

    let operand = try operand(operandText, architecture: architecture)

    // Int(_:) is nil on overflow, so an absurd size is rejected like any other bad size.
    guard let size = Int(prefix), [1, 2, 4, 8].contains(size) else {
      throw USDTError(
        .unsupportedOperand, "argument size \(prefix) is not 1, 2, 4 or 8",
        hint: "values wider than 8 bytes (e.g. a struct passed by value) cannot be read")
    }
    if case .register(let register) = operand, X86.highByteRegisters.contains(register.name),
      size != 1
    {
      throw USDTError(
        .unsupportedOperand, "%\(register.name) holds one byte, but the argument is \(size) bytes")
    }
    // gcc names only the low register of a pair (`8@%eax` for edx:eax, `-8@r4` for r4:r5); the
    // high half is in a register the note does not name. Memory and constants hold all 8 bytes.
    if size == 8, hasFourByteRegisters(architecture), case .register(let register) = operand {
      throw USDTError(
        .unsupportedOperand,
        "an 8-byte value in \(register.name) spans a register pair on "
          + "\(architecture.rawValue); the 4-byte slot holds only half of it",
        hint: "the note names only one register of the pair, so the value cannot be read whole")
    }
    return ArgumentSpec(
      size: size, isSigned: isSigned, isFloat: isFloat, operand: operand,
      text: String(operandText))
  }

  /// The text without C `isspace` blanks around it.
  static func trimmed(_ text: Substring) -> Substring {
    guard let first = text.firstIndex(where: { !isBlank($0) }),
      let last = text.lastIndex(where: { !isBlank($0) })
    else { return text[text.endIndex...] }
    return text[first...last]
  }

  // MARK: - Numbers and symbols shared by the grammars

  /// A signed decimal or `0x` hexadecimal integer; `nil` if the text is not shaped like one.
  ///
  /// Hexadecimal is a deliberate leniency: libbpf reads `%ld` and refuses it, but hand-written
  /// notes may use it and its meaning is unambiguous.
  ///
  /// - Throws: `.unsupportedOperand` if it is shaped like one but does not fit in `Int64`.
  static func integer(_ text: Substring) throws(USDTError) -> Int64? {
    var digits = text
    var sign = ""
    if let first = digits.first, first == "-" || first == "+" {
      sign = first == "-" ? "-" : ""
      digits = digits.dropFirst()
    }
    var radix = 10
    if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
      radix = 16
      digits = digits.dropFirst(2)
    }
    guard !digits.isEmpty, digits.allSatisfy({ $0.isHexDigit && (radix == 16 || $0.isNumber) })
    else { return nil }
    guard let value = Int64(sign + digits, radix: radix) else {
      throw USDTError(.unsupportedOperand, "number \(text) does not fit in 64 bits")
    }
    return value
  }

  /// `sym`, `sym+N` or `sym-N`, a symbol as gas spells it (`[A-Za-z_.][A-Za-z0-9_.$]*`) with an
  /// optional numeric addend; `nil` if the text is not shaped like one.
  ///
  /// - Throws: `.unsupportedOperand` if the addend does not fit in `Int64`.
  static func symbolWithAddend(
    _ text: Substring
  ) throws(USDTError) -> (name: String, addend: Int64)? {
    let end = text.dropFirst().firstIndex { $0 == "+" || $0 == "-" } ?? text.endIndex
    let name = text[..<end]
    guard let first = name.first, first.isASCII, first.isLetter || first == "_" || first == ".",
      name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.$".contains($0)) })
    else { return nil }
    guard end < text.endIndex else { return (String(name), 0) }
    guard let addend = try integer(text[end...]) else { return nil }
    return (String(name), addend)
  }

  /// The decimal number after `prefix` in a register name (`x12` → 12), for explaining refusals.
  static func number(in name: Substring, after prefix: String) -> Int? {
    guard name.hasPrefix(prefix) else { return nil }
    let digits = name.dropFirst(prefix.count)
    guard !digits.isEmpty, digits.count <= 4, digits.allSatisfy(isDecimalDigit) else { return nil }
    return Int(digits)
  }
}
