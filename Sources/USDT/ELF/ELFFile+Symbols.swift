/// Decoding of the symbol tables, `.symtab` (`SHT_SYMTAB`) and `.dynsym` (`SHT_DYNSYM`).
///
/// A table is an array of `sh_entsize`-byte entries whose names are offsets into the string
/// table named by its `sh_link`. The two classes order the fields differently, because
/// `Elf64_Sym` moves the 8-byte fields to the end to keep them aligned:
///
///     Elf32_Sym: st_name(4) st_value(4) st_size(4) st_info(1) st_other(1) st_shndx(2)   16 bytes
///     Elf64_Sym: st_name(4) st_info(1) st_other(1) st_shndx(2) st_value(8) st_size(8)   24 bytes
///
/// `Section` does not keep `sh_link` or `sh_entsize`, so they are read here from the section
/// header table, only for the few sections that need them.
extension ELFFile {
  /// The symbols of `.symtab` and of `.dynsym`, read in one pass over each table.
  ///
  /// The tables are found by type (`SHT_SYMTAB` 2, `SHT_DYNSYM` 11), not by name. Each call
  /// reads them again; keep the result to look up many names.
  ///
  /// - Returns: a table that owns copies of the symbols; a missing table gives an empty array.
  /// - Throws: `.malformedELF` with ``path`` when a table's `sh_entsize` is smaller than a symbol
  ///   or does not divide its size, its `sh_link` is not a string table, a name lies outside
  ///   the string table, or an `SHN_XINDEX` has no matching `SHT_SYMTAB_SHNDX` entry;
  ///   `.systemCall` when reading fails.
  public func symbolTable() throws(USDTError) -> SymbolTable {
    do throws(USDTError) {
      return SymbolTable(
        symtab: try symbols(ofType: SymbolSection.symtabType), dynsym: try symbols(ofType: SymbolSection.dynsymType),
        binary: path)
    } catch {
      throw error.adding(binary: path)
    }
  }

  /// The symbols of the first section of type `sectionType`, or `[]` when there is none.
  private func symbols(ofType sectionType: UInt32) throws(USDTError) -> [Symbol] {
    guard let index = sections.firstIndex(where: { $0.type == sectionType }) else { return [] }
    let section = sections[index]
    let what = "section \(index) (\(section.name.isEmpty ? "symbol table" : section.name))"
    let header = try sectionHeaderLinks(index)
    let entrySize = is64Bit ? 24 : 16  // sizeof(Elf64_Sym), sizeof(Elf32_Sym)
    guard header.entrySize >= UInt64(entrySize) else {
      throw USDTError(
        .malformedELF, "\(what) has sh_entsize \(header.entrySize), smaller than a symbol (\(entrySize) bytes)")
    }
    guard section.size % header.entrySize == 0 else {
      throw USDTError(
        .malformedELF, "\(what) has size \(section.size), not a multiple of its sh_entsize \(header.entrySize)")
    }
    // The section fits in the file (checked when it was opened), so its size fits in an Int;
    // sh_entsize need not (an empty table passes the checks above with any entry size).
    guard let stride = Int(exactly: header.entrySize) else {
      throw USDTError(.malformedELF, "\(what) has an absurd sh_entsize \(header.entrySize)")
    }
    let count = Int(section.size / header.entrySize)
    guard header.link != 0, header.link < sections.count,
      sections[Int(header.link)].type == SymbolSection.stringTableType
    else {
      throw USDTError(.malformedELF, "\(what) has sh_link \(header.link), which is not a string table (SHT_STRTAB)")
    }
    let table = reader(try contents(of: section), errorKind: .malformedELF, what: what)
    let strings = reader(
      try contents(of: sections[Int(header.link)]), errorKind: .malformedELF,
      what: "the string table of \(what)")
    var extendedIndices: ByteReader?

    var symbols: [Symbol] = []
    symbols.reserveCapacity(count)
    for position in 0..<count {
      let base = position * stride
      let nameOffset = try table.u32(at: base)
      let value, size: UInt64
      let info: UInt8
      let shndx: UInt16
      if is64Bit {
        info = try table.u8(at: base + 4)
        shndx = try table.u16(at: base + 6)
        value = try table.u64(at: base + 8)
        size = try table.u64(at: base + 16)
      } else {
        value = UInt64(try table.u32(at: base + 4))
        size = UInt64(try table.u32(at: base + 8))
        info = try table.u8(at: base + 12)
        shndx = try table.u16(at: base + 14)
      }
      var name = ""
      if nameOffset != 0 {
        guard let (text, _) = strings.cString(at: Int(clamping: nameOffset)) else {
          throw USDTError(
            .malformedELF,
            "symbol \(position) of \(what) has st_name \(nameOffset), which is not a NUL-terminated string"
              + " inside its string table (\(strings.bytes.count) bytes)")
        }
        name = text
      }
      var sectionIndex = UInt32(shndx)
      if shndx == SymbolSection.extendedIndex {
        if extendedIndices == nil { extendedIndices = try extendedSectionIndices(for: index, what: what) }
        guard let extended = extendedIndices, let real = try? extended.u32(at: position * 4) else {
          throw USDTError(
            .malformedELF, "symbol \(position) of \(what) has st_shndx SHN_XINDEX but no SHT_SYMTAB_SHNDX entry")
        }
        sectionIndex = real
      }
      symbols.append(
        Symbol(
          name: name, value: value, size: size, isLocal: info >> 4 == SymbolSection.localBinding,
          isDefined: sectionIndex != 0, type: info & 0xf, sectionIndex: sectionIndex))
    }
    return symbols
  }

  /// The `SHT_SYMTAB_SHNDX` section linked to symbol table `symbolTableIndex`, or nil.
  private func extendedSectionIndices(for symbolTableIndex: Int, what: String) throws(USDTError) -> ByteReader? {
    for (index, section) in sections.enumerated() where section.type == SymbolSection.extendedIndexType {
      guard try sectionHeaderLinks(index).link == symbolTableIndex else { continue }
      return reader(try contents(of: section), errorKind: .malformedELF, what: "the SHT_SYMTAB_SHNDX of \(what)")
    }
    return nil
  }

  /// `sh_link` and `sh_entsize` of section `index`, read from the section header table.
  ///
  /// The table was checked to lie inside the file when it was opened; the arithmetic is
  /// checked again anyway, since it is cheap.
  private func sectionHeaderLinks(_ index: Int) throws(USDTError) -> (link: UInt32, entrySize: UInt64) {
    let header = try ELFHeader(bytes(atFileOffset: 0, count: is64Bit ? 64 : 52))
    let w = is64Bit ? 8 : 4
    let headerSize = 16 + 6 * w  // sizeof(Elf32_Shdr) 40, sizeof(Elf64_Shdr) 64
    let (relative, overflow1) = index.multipliedReportingOverflow(by: header.sectionHeaderEntrySize)
    let (offset, overflow2) = header.sectionHeaderOffset.addingReportingOverflow(UInt64(clamping: relative))
    guard !overflow1, !overflow2, header.sectionHeaderEntrySize >= headerSize else {
      throw USDTError(.malformedELF, "the header of section \(index) is outside the file")
    }
    let entry = reader(
      try bytes(atFileOffset: offset, count: headerSize), errorKind: .malformedELF,
      what: "the header of section \(index)")
    // name, type (4 each), then flags, addr, offset, size (words), link, info (4 each),
    // addralign, entsize (words).
    return (try entry.u32(at: 8 + 4 * w), try entry.word(at: 16 + 5 * w))
  }
}

/// The ELF constants of symbol tables.
private enum SymbolSection {
  static let symtabType: UInt32 = 2  // SHT_SYMTAB
  static let stringTableType: UInt32 = 3  // SHT_STRTAB
  static let dynsymType: UInt32 = 11  // SHT_DYNSYM
  static let extendedIndexType: UInt32 = 18  // SHT_SYMTAB_SHNDX
  static let extendedIndex: UInt16 = 0xffff  // SHN_XINDEX
  static let localBinding: UInt8 = 0  // STB_LOCAL
}
