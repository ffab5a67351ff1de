import Glibc
import USDT

/// A libbpf release whose USDT attach `usdt check` predicts.
enum LibbpfRelease: String, CaseIterable, Sendable {
  /// Debian 12's libbpf: no base+index*scale operands, no arm32 parser.
  case v1_1_2 = "1.1.2"
  /// libbpf 1.7.0 (argument parsing as on master `f7081a6b`): base+index*scale on x86.
  case v1_7 = "1.7"

  /// `libbpf 1.1.2`.
  var name: String { "libbpf \(rawValue)" }
}

/// Why libbpf refuses to attach a probe, or why its outcome is not defined.
struct LibbpfRefusal: Error, Sendable, Equatable {
  /// The errno libbpf returns, by name (`EINVAL`, `ENOENT`, `ESRCH`, `ENOTSUP`, `E2BIG`,
  /// `EBADF`), or `UB` where libbpf's behaviour is undefined.
  var errno: String
  /// The argument at fault, 0-based as libbpf counts them, when an argument is the reason.
  var argument: Int?
  var reason: String
  /// Where in the argument string the refused argument starts (UTF-8 bytes), to find it among
  /// the note's arguments when libbpf's count drifts (`$0x10` counts as two).
  var byteOffset: Int?
}

/// libbpf's USDT argument parser for one release and one file architecture, as data.
///
/// libbpf reads an argument string with `sscanf` patterns tried in order (`parse_usdt_arg` in
/// `src/usdt.c`; one set per architecture, picked at libbpf's compile time), looks the register
/// up in a fixed table, then checks the size (`parse_usdt_spec`). Below are those patterns and
/// tables for v1.1.2 and v1.7.0, and they are run through glibc's own `vsscanf`, so libbpf's
/// quirks come out as libbpf has them (reference arguments.md §3 and §6):
///
/// - `$0x10` reads `$0`, then `x10` matches no pattern: `EINVAL`;
/// - 1.1.2 reads `(%rcx,%rdx,2)` as one register named `rcx,%rdx,2`: `ENOENT`;
/// - `sym(%rip)`, `4+t1(%rip)`, the `f` suffix: no pattern matches, `EINVAL`;
/// - 1.7's base+index*scale patterns scan `%15[^,]` across the blank between arguments, so
///   `-4@8(%rsp) -8@(%rax,%r8,8)` takes `rsp) -8@(%rax` as the first argument's base: `ENOENT`;
/// - a pattern whose conversions all match but whose closing `)` or `]` does not leaves the
///   consumed length unset (`-4@-20(%rbp`, aarch64 `[x0, x1]`): undefined behaviour, reported
///   as `UB`.
///
/// The verdicts are those of libbpf built for the *file's* architecture, on a host of that
/// architecture: libbpf itself only parses notes of the machine it was compiled for.
struct LibbpfArgumentParser {
  /// libbpf's `USDT_MAX_ARG_CNT`.
  static let maxArguments = 12

  let release: LibbpfRelease
  let family: Family

  /// The parser libbpf has for each architecture; several machines share one.
  enum Family: Sendable {
    case x86_64, i386, aarch64, arm, riscv, s390x
    /// ppc, loongarch, mips and the rest: no parser (`ENOTSUP`).
    case none

    init(_ architecture: Architecture?) {
      switch architecture {
      case .x86_64: self = .x86_64
      case .i386: self = .i386
      case .aarch64: self = .aarch64
      case .arm: self = .arm
      case .riscv64, .riscv32: self = .riscv
      case .s390x: self = .s390x
      case .ppc64le, .ppc64, .ppc, .loongarch64, .mips, nil: self = .none
      }
    }
  }

  /// The file's architecture, for messages.
  let architectureName: String

  init(release: LibbpfRelease, architecture: Architecture?) {
    self.release = release
    family = Family(architecture)
    architectureName = architecture?.rawValue ?? "this machine"
  }

  // MARK: - The patterns

  /// One `sscanf` pattern of `parse_usdt_arg`: the format, what each conversion stores (the
  /// trailing `%n` is implied), and which kind of argument a match makes.
  struct Pattern: Sendable {
    enum Field: Sendable { case size, offset, base, index, scale, registerNumber }
    enum Kind: Sendable { case indexed, dereference, register, constant }
    var format: String
    var fields: [Field]
    var kind: Kind
  }

  /// x86-64 and i386, both releases: `-4@-20(%rbp)`, `8@(%rsp)`, `-4@%eax`, `4@$71`.
  private static let x86: [Pattern] = [
    Pattern(format: " %d @ %ld ( %%%15[^)] ) %n", fields: [.size, .offset, .base], kind: .dereference),
    Pattern(format: " %d @ ( %%%15[^)] ) %n", fields: [.size, .base], kind: .dereference),
    Pattern(format: " %d @ %%%15s %n", fields: [.size, .base], kind: .register),
    Pattern(format: " %d @ $%ld %n", fields: [.size, .offset], kind: .constant),
  ]

  /// x86 from 1.7, tried before ``x86``: `1@-96(%rbp,%rax,8)`, `1@(%rbp,%rax,8)`,
  /// `1@-96(%rbp,%rax)`, `1@(%rbp,%rax)`.
  private static let x86Indexed: [Pattern] = [
    Pattern(
      format: " %d @ %ld ( %%%15[^,] , %%%15[^,] , %d ) %n",
      fields: [.size, .offset, .base, .index, .scale], kind: .indexed),
    Pattern(
      format: " %d @ ( %%%15[^,] , %%%15[^,] , %d ) %n", fields: [.size, .base, .index, .scale],
      kind: .indexed),
    Pattern(
      format: " %d @ %ld ( %%%15[^,] , %%%15[^)] ) %n", fields: [.size, .offset, .base, .index],
      kind: .indexed),
    Pattern(format: " %d @ ( %%%15[^,] , %%%15[^)] ) %n", fields: [.size, .base, .index], kind: .indexed),
  ]

  /// aarch64: `-4@[sp, 96]`, `-4@[sp]`, `4@5`, `-8@x4`. 1.1.2 wants the comma right after the
  /// register (`[sp , 96]` is undefined behaviour there).
  private static func aarch64(_ release: LibbpfRelease) -> [Pattern] {
    [
      Pattern(
        format: release == .v1_1_2 ? " %d @ [ %15[a-z0-9], %ld ] %n" : " %d @ [ %15[a-z0-9] , %ld ] %n",
        fields: [.size, .base, .offset], kind: .dereference),
      Pattern(format: " %d @ [ %15[a-z0-9] ] %n", fields: [.size, .base], kind: .dereference),
      Pattern(format: " %d @ %ld %n", fields: [.size, .offset], kind: .constant),
      Pattern(format: " %d @ %15[a-z0-9] %n", fields: [.size, .base], kind: .register),
    ]
  }

  /// arm32, from 1.2.0: `-4@[fp, #96]`, `-4@[sp]`, `4@#5`, `-8@r4`.
  private static let arm: [Pattern] = [
    Pattern(format: " %d @ [ %15[a-z0-9] , #%ld ] %n", fields: [.size, .base, .offset], kind: .dereference),
    Pattern(format: " %d @ [ %15[a-z0-9] ] %n", fields: [.size, .base], kind: .dereference),
    Pattern(format: " %d @ #%ld %n", fields: [.size, .offset], kind: .constant),
    Pattern(format: " %d @ %15[a-z0-9] %n", fields: [.size, .base], kind: .register),
  ]

  /// riscv, both releases: `-8@-88(s0)`, `4@5`, `-8@a1`.
  private static let riscv: [Pattern] = [
    Pattern(format: " %d @ %ld ( %15[a-z0-9] ) %n", fields: [.size, .offset, .base], kind: .dereference),
    Pattern(format: " %d @ %ld %n", fields: [.size, .offset], kind: .constant),
    Pattern(format: " %d @ %15[a-z0-9] %n", fields: [.size, .base], kind: .register),
  ]

  /// s390x, both releases: `-2@-28(%r15)`, `-8@%r0`, `4@71`.
  private static let s390x: [Pattern] = [
    Pattern(
      format: " %d @ %ld ( %%r%u ) %n", fields: [.size, .offset, .registerNumber], kind: .dereference),
    Pattern(format: " %d @ %%r%u %n", fields: [.size, .registerNumber], kind: .register),
    Pattern(format: " %d @ %ld %n", fields: [.size, .offset], kind: .constant),
  ]

  /// The patterns of this release for this family, in the order libbpf tries them; `nil` when
  /// the release has no parser for it.
  var patterns: [Pattern]? {
    switch family {
    case .x86_64, .i386: release == .v1_7 ? Self.x86Indexed + Self.x86 : Self.x86
    case .aarch64: Self.aarch64(release)
    case .arm: release == .v1_7 ? Self.arm : nil
    case .riscv: Self.riscv
    case .s390x: Self.s390x
    case .none: nil
    }
  }

  // MARK: - The register tables (`calc_pt_regs_off`)

  private static let x86Common: Set<String> = [
    "rip", "eip", "rax", "eax", "ax", "al", "rbx", "ebx", "bx", "bl", "rcx", "ecx", "cx", "cl",
    "rdx", "edx", "dx", "dl", "rsi", "esi", "si", "sil", "rdi", "edi", "di", "dil",
    "rbp", "ebp", "bp", "bpl", "rsp", "esp", "sp", "spl",
  ]
  /// r8–r15, x86-64 only.
  private static let x86Extended: Set<String> = Set(
    (8...15).flatMap { n in ["r\(n)", "r\(n)d", "r\(n)w", "r\(n)b"] })
  private static let riscvNames: Set<String> = Set(
    ["ra", "sp", "gp", "tp"] + (0...7).map { "a\($0)" } + (0...11).map { "s\($0)" }
      + (0...6).map { "t\($0)" })
  private static let armNames: Set<String> = Set(
    (0...10).map { "r\($0)" } + ["fp", "ip", "sp", "lr", "pc"])

  /// Whether `calc_pt_regs_off` knows `name`.
  func knows(register name: String) -> Bool {
    switch family {
    case .x86_64: Self.x86Common.contains(name) || Self.x86Extended.contains(name)
    case .i386: Self.x86Common.contains(name)
    case .aarch64:
      // `sscanf(reg_name, "x%d")` first: `x31` is refused without trying `sp`.
      if let number = Self.scanNumber(name, format: "x%d") { (0..<31).contains(number) } else { name == "sp" }
    case .arm: Self.armNames.contains(name)
    case .riscv: Self.riscvNames.contains(name)
    case .s390x, .none: false
    }
  }

  // MARK: - Parsing

  /// `parse_usdt_spec`: the arguments of one note, in order, up to the first refusal.
  ///
  /// - Returns: how many arguments libbpf accepts, and the refusal that stops it, if any.
  func parse(_ arguments: String) -> (count: Int, refusal: LibbpfRefusal?) {
    // parse_usdt_note: an empty string or one starting with ':' has no arguments.
    if arguments.isEmpty || arguments.first == ":" { return (0, nil) }
    guard patterns != nil else {
      // The generic parse_usdt_arg refuses the first argument, so any string with arguments.
      let since = family == .arm ? " (libbpf has one since 1.2.0)" : ""
      return (0, LibbpfRefusal(errno: "ENOTSUP", reason: "no argument parser for \(architectureName)\(since)"))
    }
    let text = Array(arguments.utf8CString)
    return text.withUnsafeBufferPointer { buffer -> (Int, LibbpfRefusal?) in
      guard let start = buffer.baseAddress else { return (0, nil) }
      var position = 0
      var count = 0
      while buffer[position] != 0 {
        guard count < Self.maxArguments else {
          return (count, LibbpfRefusal(
            errno: "E2BIG", argument: count,
            reason: "more than \(Self.maxArguments) arguments, the most a spec holds",
            byteOffset: position))
        }
        switch parseArgument(start + position, index: count) {
        case .failure(var refusal):
          refusal.byteOffset = position
          return (count, refusal)
        case .success(let length): position += length
        }
        count += 1
      }
      return (count, nil)
    }
  }

  /// `parse_usdt_arg` and the size check after it: how many bytes the argument took.
  private func parseArgument(_ text: UnsafePointer<CChar>, index: Int) -> Result<Int, LibbpfRefusal> {
    let rest = String(cString: text)
    func refuse(_ errno: String, _ reason: String) -> Result<Int, LibbpfRefusal> {
      .failure(LibbpfRefusal(errno: errno, argument: index, reason: reason))
    }
    guard let patterns else { return refuse("ENOTSUP", "no argument parser") }
    for pattern in patterns {
      let scanned = Scan(pattern, text)
      guard scanned.count == pattern.fields.count else { continue }
      guard scanned.length > 0 else {
        return refuse(
          "UB",
          "\"\(Self.clip(rest))\" matches a pattern up to its closing literal only, so libbpf goes on with an uninitialised length (undefined behaviour: observed -E2BIG, other errors, or a crash)"
        )
      }
      switch pattern.kind {
      case .indexed:
        for name in [scanned.base, scanned.index] where !knows(register: name) {
          return refuse("ENOENT", "unrecognized register '\(name)'" + Self.registerHint(name))
        }
        guard [1, 2, 4, 8].contains(scanned.scale) else {
          return refuse("EINVAL", "invalid SIB scale \(scanned.scale), expected 1, 2, 4, 8")
        }
      case .dereference, .register:
        if family == .s390x {
          guard scanned.registerNumber <= 15 else {
            return refuse("EINVAL", "unrecognized register '%r\(scanned.registerNumber)'")
          }
        } else if !knows(register: scanned.base) {
          return refuse(
            "ENOENT", "unrecognized register '\(scanned.base)'" + Self.registerHint(scanned.base))
        }
      case .constant:
        break
      }
      let size = scanned.size.magnitude
      guard [1, 2, 4, 8].contains(size) else {
        return refuse("EINVAL", "unsupported size \(size) (only 1, 2, 4 and 8)")
      }
      return .success(Int(scanned.length))
    }
    return refuse("EINVAL", "no pattern matches \"\(Self.clip(rest))\"" + unrecognizedHint(rest))
  }

  // MARK: - Explanations

  /// Why a register name is not in the table, where the name itself tells.
  private static func registerHint(_ name: String) -> String {
    if name.contains(where: { $0 == " " || $0 == ")" || $0 == "@" }) {
      return " (the base+index*scale pattern read on into the next argument)"
    }
    if name.contains(",") { return " (no base+index*scale operands before libbpf 1.7)" }
    if name.contains(":") { return " (segment-relative, thread-local storage)" }
    if ["xmm", "ymm", "zmm", "st"].contains(where: { name.hasPrefix($0) }) {
      return " (vector and x87 registers are not in pt_regs)"
    }
    if ["ah", "bh", "ch", "dh"].contains(name) { return " (high-byte registers are not in its table)" }
    if name != name.lowercased() { return " (register names are case-sensitive)" }
    return ""
  }

  /// What in an unmatched argument libbpf's grammar lacks, when it is one of the known gaps.
  private func unrecognizedHint(_ rest: String) -> String {
    let argument = rest.drop { $0 == " " || $0 == "\t" }.prefix { $0 != " " && $0 != "\t" }
    guard let at = argument.firstIndex(of: "@") else { return "" }
    let prefix = argument[..<at]
    let operand = argument[argument.index(after: at)...]
    if prefix.last == "f" { return " (the f suffix of floating-point arguments is not in libbpf's grammar)" }
    if operand.lowercased().contains("0x") || rest.hasPrefix("x") {
      return " (numbers are read as decimal only)"
    }
    if family == .x86_64 || family == .i386, let open = operand.firstIndex(of: "(") {
      let displacement = operand[..<open]
      if displacement.contains(where: { $0.isLetter || $0 == "_" || $0 == "." }) {
        return " (symbol-relative operands such as sym(%rip) are not supported)"
      }
      if operand.hasPrefix("(,") || displacement.last == "," { return " (an index without a base register)" }
    }
    return ""
  }

  private static func clip(_ text: String) -> String {
    text.count > 40 ? text.prefix(40) + "…" : text
  }

  /// `sscanf(text, format, &int)` for a one-number format; `nil` when it does not match.
  private static func scanNumber(_ text: String, format: String) -> Int32? {
    var number: Int32 = 0
    let count = withUnsafeMutablePointer(to: &number) { pointer in
      withVaList([pointer]) { vsscanf(text, format, $0) }
    }
    return count == 1 ? number : nil
  }

  /// One `sscanf` call of a ``Pattern``: the count it returned and what it stored.
  private struct Scan {
    var count: Int32
    var size: Int32
    var offset: Int
    var base: String
    var index: String
    var scale: Int32
    var registerNumber: UInt32
    /// What `%n` stored, or -1 when `sscanf` stopped before it.
    var length: Int32

    init(_ pattern: Pattern, _ text: UnsafePointer<CChar>) {
      let size = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
      let offset = UnsafeMutablePointer<Int>.allocate(capacity: 1)
      let base = UnsafeMutablePointer<CChar>.allocate(capacity: 16)
      let index = UnsafeMutablePointer<CChar>.allocate(capacity: 16)
      let scale = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
      let number = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
      let length = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
      defer {
        for pointer in [base, index] { pointer.deallocate() }
        size.deallocate(); offset.deallocate(); scale.deallocate()
        number.deallocate(); length.deallocate()
      }
      // As in libbpf 1.7: scale 1 and offset 0 unless a pattern stores them.
      size.initialize(to: 0)
      offset.initialize(to: 0)
      base.initialize(repeating: 0, count: 16)
      index.initialize(repeating: 0, count: 16)
      scale.initialize(to: 1)
      number.initialize(to: 0)
      length.initialize(to: -1)
      var arguments: [CVarArg] = pattern.fields.map { field -> CVarArg in
        switch field {
        case .size: size
        case .offset: offset
        case .base: base
        case .index: index
        case .scale: scale
        case .registerNumber: number
        }
      }
      arguments.append(length)
      count = withVaList(arguments) { vsscanf(text, pattern.format, $0) }
      self.size = size.pointee
      self.offset = offset.pointee
      self.base = String(cString: base)
      self.index = String(cString: index)
      self.scale = scale.pointee
      registerNumber = number.pointee
      self.length = length.pointee
    }
  }
}
