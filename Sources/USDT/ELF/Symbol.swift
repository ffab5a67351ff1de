/// One entry of a symbol table (`.symtab` or `.dynsym`), decoded from `Elf32_Sym` or `Elf64_Sym`.
///
/// USDT argument strings name globals by symbol: gcc on x86-64 writes `-4@gvar(%rip)` or
/// `-1@4+t1(%rip)`, aarch64 writes `[x21, #:lo12:sym]`. Reading such an argument needs the
/// symbol's link-time address, which is ``value`` in a linked file (`ET_EXEC`, `ET_DYN`). In a
/// relocatable object (`ET_REL`) it is an offset into section ``sectionIndex`` instead.
public struct Symbol: Sendable, Hashable {
  /// The name from the table's string table (`sh_link`); `""` for `st_name` 0.
  public let name: String
  /// `st_value`: the link-time address in a linked file. For a thread-local symbol (`STT_TLS`)
  /// it is an offset into the TLS block, not an address.
  public let value: UInt64
  /// `st_size`: the size of the object or function in bytes, 0 when unknown.
  public let size: UInt64
  /// Whether the binding (`ELF_ST_BIND(st_info)`) is `STB_LOCAL`: a `static` of one translation
  /// unit. Other units may have locals of the same name.
  public let isLocal: Bool
  /// Whether `st_shndx` is not `SHN_UNDEF`: this file defines the symbol rather than importing it.
  public let isDefined: Bool
  /// `ELF_ST_TYPE(st_info)`: ``objectType`` (1), ``functionType`` (2), ``sectionType`` (3),
  /// ``fileType`` (4), ``tlsType`` (6), or 0 (`STT_NOTYPE`).
  public let type: UInt8
  /// The index of the section the symbol is defined in. An `st_shndx` of `SHN_XINDEX` is
  /// replaced by the real index from `SHT_SYMTAB_SHNDX`; the other reserved values are kept as
  /// they are, e.g. ``absoluteSection`` (`SHN_ABS`) and ``commonSection`` (`SHN_COMMON`).
  public let sectionIndex: UInt32

  public init(
    name: String, value: UInt64, size: UInt64, isLocal: Bool, isDefined: Bool, type: UInt8, sectionIndex: UInt32
  ) {
    self.name = name
    self.value = value
    self.size = size
    self.isLocal = isLocal
    self.isDefined = isDefined
    self.type = type
    self.sectionIndex = sectionIndex
  }

  /// `STT_OBJECT`: a variable.
  public static let objectType: UInt8 = 1
  /// `STT_FUNC`: a function.
  public static let functionType: UInt8 = 2
  /// `STT_SECTION`: stands for a section, for relocations; never what an operand names.
  public static let sectionType: UInt8 = 3
  /// `STT_FILE`: the name of a source file; never what an operand names.
  public static let fileType: UInt8 = 4
  /// `STT_TLS`: a thread-local variable; ``value`` is an offset into the TLS block.
  public static let tlsType: UInt8 = 6

  /// `SHN_ABS`: the value is absolute and does not move with any section.
  public static let absoluteSection: UInt32 = 0xfff1
  /// `SHN_COMMON`: an unallocated common block of an `ET_REL` file; ``value`` is its alignment.
  public static let commonSection: UInt32 = 0xfff2

  /// Whether the symbol can be what an operand like `gvar(%rip)` means: defined here, named,
  /// and neither a section, a file nor a common block, whose values are no addresses.
  var canBeOperand: Bool {
    isDefined && !name.isEmpty && type != Self.sectionType && type != Self.fileType
      && sectionIndex != Self.commonSection
  }
}

/// The symbols of one ELF file, `.symtab` and `.dynsym`, and the lookup USDT operands need.
///
/// A stripped binary keeps only `.dynsym`, which lists the exported and imported symbols; the
/// `static` variables that probes read most often are only in `.symtab`.
public struct SymbolTable: Sendable {
  /// The symbols of `.symtab` in table order (index `i` is symbol `i`, 0 is the null symbol);
  /// empty when the file has none, as a stripped file.
  public let symtab: [Symbol]
  /// The symbols of `.dynsym` in table order; empty when the file has none, as a static
  /// executable or an object file.
  public let dynsym: [Symbol]
  /// The file the symbols came from, for error messages.
  public let binary: String?

  /// For each table, the positions of the symbols that ``Symbol/canBeOperand``, by name.
  private let symtabByName: [String: [Int]]
  private let dynsymByName: [String: [Int]]

  /// Indexes the two tables by name, in one pass over each.
  public init(symtab: [Symbol], dynsym: [Symbol], binary: String? = nil) {
    self.symtab = symtab
    self.dynsym = dynsym
    self.binary = binary
    symtabByName = Self.index(symtab)
    dynsymByName = Self.index(dynsym)
  }

  /// The link-time address of the symbol `name`, as a USDT operand such as `name(%rip)` means it.
  ///
  /// Only symbols defined in this file count, and `.symtab` is asked first, then `.dynsym`
  /// (which a stripped file keeps). Several definitions of the name in the chosen table are fine
  /// when they share one address (a global listed twice, an alias); at different addresses,
  /// typically two `static` variables of different translation units, the argument string
  /// cannot say which one the probe reads, so this throws rather than guess.
  ///
  /// - Throws: `.unsupportedOperand` when the name is not defined in either table (a stripped
  ///   binary, or a symbol imported from another shared object), when it is defined at several
  ///   addresses (the message lists them), or when it is thread-local (its value is no address).
  public func address(of name: String) throws(USDTError) -> UInt64 {
    let (table, candidates): (String, [Symbol])
    if let positions = symtabByName[name] {
      (table, candidates) = (".symtab", positions.map { symtab[$0] })
    } else if let positions = dynsymByName[name] {
      (table, candidates) = (".dynsym", positions.map { dynsym[$0] })
    } else {
      let imported = (symtab + dynsym).contains { $0.name == name && !$0.isDefined }
      throw USDTError(
        .unsupportedOperand,
        imported
          ? "symbol \(name) is not defined in this file (it is imported from another shared object)"
          : "symbol \(name) is not in .symtab or .dynsym (stripped binary?)",
        binary: binary, input: name,
        hint: imported ? nil : "Probe an unstripped build, or one with the symbol's debug file")
    }
    if candidates.contains(where: { $0.type == Symbol.tlsType }) {
      throw USDTError(
        .unsupportedOperand,
        "symbol \(name) is thread-local (STT_TLS): its value is an offset in each thread's TLS block, not an address",
        binary: binary, input: name)
    }
    var values: [UInt64] = []
    for symbol in candidates where !values.contains(symbol.value) {
      values.append(symbol.value)
    }
    guard values.count == 1, let value = values.first else {
      throw USDTError(
        .unsupportedOperand,
        "symbol \(name) is defined \(values.count) times in \(table) at different addresses ("
          + values.sorted().map(ELFFile.hex).joined(separator: ", ")
          + "), e.g. static variables of different translation units; the binary's notes cannot tell them apart",
        binary: binary, input: name,
        hint: "Give the variables distinct names, or pass the probe a local copy instead")
    }
    return value
  }

  private static func index(_ symbols: [Symbol]) -> [String: [Int]] {
    var byName: [String: [Int]] = [:]
    for (position, symbol) in symbols.enumerated() where symbol.canBeOperand {
      byName[symbol.name, default: []].append(position)
    }
    return byName
  }
}
