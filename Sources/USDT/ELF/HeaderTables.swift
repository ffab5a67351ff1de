/// Reads the program and section header tables named by the ELF header.
///
/// Every count, entry size, offset and size comes from the file, so each is checked before it is
/// used: entry sizes against the structure size of the class, whole tables and section contents
/// against the file size (without overflowing), counts against a sanity limit so a corrupt header
/// cannot make us allocate gigabytes.
struct HeaderTables {
  /// The `PT_LOAD` segments, sorted by virtual address.
  let segments: [Segment]
  /// All sections in header order, names resolved.
  let sections: [Section]

  /// No real file comes near these; they bound what a corrupt count can make us allocate.
  static let maximumProgramHeaders = 1 << 16
  static let maximumSections = 1 << 20

  private static let loadType: UInt32 = 1  // PT_LOAD

  init(source: ELFSource, header: ELFHeader) throws(USDTError) {
    let w = header.is64Bit ? 8 : 4
    var programHeaderCount = header.programHeaderCount
    var sectionCount = header.sectionHeaderCount
    var nameTableIndex = header.sectionNameTableIndex
    let sectionEntrySize = header.sectionHeaderEntrySize
    let minimumSectionEntrySize = 16 + 6 * w  // sizeof(Elf32_Shdr) 40, sizeof(Elf64_Shdr) 64

    // Section 0 first: with more than 0xff00 sections or segments, the real counts live in it
    // (extended numbering, gABI "Sections").
    if header.sectionHeaderOffset == 0 {
      guard sectionCount == 0, nameTableIndex == 0, programHeaderCount != ELFHeader.escapeCount else {
        throw USDTError(
          .malformedELF,
          "e_shoff is 0, but e_shnum is \(sectionCount), e_shstrndx \(nameTableIndex), e_phnum \(programHeaderCount)")
      }
    } else {
      guard sectionEntrySize >= minimumSectionEntrySize else {
        throw USDTError(
          .malformedELF,
          "e_shentsize \(sectionEntrySize) is smaller than a section header (\(minimumSectionEntrySize))")
      }
      let first = try Self.table(
        source, header, offset: header.sectionHeaderOffset, count: 1, entrySize: sectionEntrySize,
        what: "the section header table")
      let zero = try RawSection(first, at: 0)
      if sectionCount == 0 { sectionCount = Int(clamping: zero.size) }
      if nameTableIndex == ELFHeader.escapeCount { nameTableIndex = Int(clamping: zero.link) }
      if programHeaderCount == ELFHeader.escapeCount { programHeaderCount = Int(clamping: zero.info) }
    }

    segments = try Self.loadSegments(source, header, count: programHeaderCount)
    sections = try Self.sections(source, header, count: sectionCount, nameTableIndex: nameTableIndex)
  }

  private static func loadSegments(_ source: ELFSource, _ header: ELFHeader, count: Int) throws(USDTError)
    -> [Segment]
  {
    guard count > 0 else { return [] }
    guard count <= maximumProgramHeaders else {
      throw USDTError(.malformedELF, "e_phnum \(count) is absurd")
    }
    guard header.programHeaderOffset != 0 else {
      throw USDTError(.malformedELF, "e_phoff is 0, but e_phnum is \(count)")
    }
    let entrySize = header.programHeaderEntrySize
    let minimumEntrySize = header.is64Bit ? 56 : 32  // sizeof(Elf64_Phdr), sizeof(Elf32_Phdr)
    guard entrySize >= minimumEntrySize else {
      throw USDTError(.malformedELF, "e_phentsize \(entrySize) is smaller than a program header (\(minimumEntrySize))")
    }
    let table = try Self.table(
      source, header, offset: header.programHeaderOffset, count: count, entrySize: entrySize,
      what: "the program header table")
    var loads: [(index: Int, segment: Segment)] = []
    for index in 0..<count {
      let base = index * entrySize  // < table size, checked by table()
      guard try table.u32(at: base) == loadType else { continue }
      // The two classes order the fields differently: Elf64_Phdr moves p_flags up to keep the
      // 8-byte fields aligned.
      let segment: Segment
      if header.is64Bit {
        segment = Segment(
          virtualAddress: try table.u64(at: base + 16), fileOffset: try table.u64(at: base + 8),
          fileSize: try table.u64(at: base + 32), memorySize: try table.u64(at: base + 40),
          flags: try table.u32(at: base + 4))
      } else {
        segment = Segment(
          virtualAddress: UInt64(try table.u32(at: base + 8)), fileOffset: UInt64(try table.u32(at: base + 4)),
          fileSize: UInt64(try table.u32(at: base + 16)), memorySize: UInt64(try table.u32(at: base + 20)),
          flags: try table.u32(at: base + 24))
      }
      try checkFits(segment.fileOffset, segment.fileSize, in: source, what: "PT_LOAD segment \(index)")
      guard segment.fileSize <= segment.memorySize else {
        throw USDTError(
          .malformedELF,
          "PT_LOAD segment \(index) has p_filesz \(ELFFile.hex(segment.fileSize))"
            + " > p_memsz \(ELFFile.hex(segment.memorySize))")
      }
      loads.append((index, segment))
    }
    loads.sort { ($0.segment.virtualAddress, $0.index) < ($1.segment.virtualAddress, $1.index) }
    return loads.map(\.segment)
  }

  private static func sections(
    _ source: ELFSource, _ header: ELFHeader, count: Int, nameTableIndex: Int
  ) throws(USDTError) -> [Section] {
    guard count > 0 else { return [] }
    guard count <= maximumSections else {
      throw USDTError(.malformedELF, "the section count \(count) is absurd")
    }
    guard nameTableIndex < count else {
      throw USDTError(.malformedELF, "e_shstrndx \(nameTableIndex) is out of range (\(count) sections)")
    }
    let entrySize = header.sectionHeaderEntrySize
    let table = try Self.table(
      source, header, offset: header.sectionHeaderOffset, count: count, entrySize: entrySize,
      what: "the section header table")
    var raw: [RawSection] = []
    raw.reserveCapacity(count)
    for index in 0..<count {
      let section = try RawSection(table, at: index * entrySize)
      if section.occupiesFile {
        try checkFits(section.offset, section.size, in: source, what: "section \(index)")
      }
      raw.append(section)
    }

    // SHN_UNDEF (0) as e_shstrndx means the file has no section names.
    var names: ByteReader?
    if nameTableIndex != 0 {
      let nameTable = raw[nameTableIndex]
      guard nameTable.occupiesFile, let size = Int(exactly: nameTable.size) else {
        throw USDTError(.malformedELF, "the section name table (section \(nameTableIndex)) has no contents")
      }
      names = ByteReader(
        bytes: try source.read(at: nameTable.offset, count: size), byteOrder: header.byteOrder,
        is64Bit: header.is64Bit, errorKind: .malformedELF, what: "the section name table")
    }
    var sections: [Section] = []
    sections.reserveCapacity(count)
    for (index, section) in raw.enumerated() {
      var name = ""
      if let names {
        guard let (text, _) = names.cString(at: Int(clamping: section.nameOffset)) else {
          throw USDTError(
            .malformedELF, "section \(index) has a name offset \(section.nameOffset) outside the section name table")
        }
        name = text
      }
      sections.append(
        Section(name: name, type: section.type, flags: section.flags, address: section.address,
                fileOffset: section.offset, size: section.size))
    }
    return sections
  }

  /// Reads `count` entries of `entrySize` bytes at `offset`, after checking that they fit.
  private static func table(
    _ source: ELFSource, _ header: ELFHeader, offset: UInt64, count: Int, entrySize: Int, what: String
  ) throws(USDTError) -> ByteReader {
    let (size, overflow) = count.multipliedReportingOverflow(by: entrySize)
    guard !overflow else { throw USDTError(.malformedELF, "\(what) is absurdly large") }
    try checkFits(offset, UInt64(size), in: source, what: what)
    return ByteReader(
      bytes: try source.read(at: offset, count: size), byteOrder: header.byteOrder, is64Bit: header.is64Bit,
      errorKind: .malformedELF, what: what)
  }

  /// Throws unless `offset ..< offset + size` lies inside the file.
  private static func checkFits(_ offset: UInt64, _ size: UInt64, in source: ELFSource, what: String)
    throws(USDTError)
  {
    let (end, overflow) = offset.addingReportingOverflow(size)
    guard !overflow, end <= source.size else {
      throw USDTError(
        .malformedELF,
        "\(what) (offset \(ELFFile.hex(offset)), size \(ELFFile.hex(size))) extends past the end of the file"
          + " (\(ELFFile.hex(source.size)))")
    }
  }
}

/// A section header as stored, before its name is looked up.
private struct RawSection {
  var nameOffset: UInt32
  var type: UInt32
  var flags: UInt64
  var address: UInt64
  var offset: UInt64
  var size: UInt64
  var link: UInt32
  var info: UInt32

  /// Decodes `ElfN_Shdr` at `base`. Both classes share one order; only the word width differs.
  init(_ table: ByteReader, at base: Int) throws(USDTError) {
    let w = table.wordSize
    nameOffset = try table.u32(at: base)
    type = try table.u32(at: base + 4)
    flags = try table.word(at: base + 8)
    address = try table.word(at: base + 8 + w)
    offset = try table.word(at: base + 8 + 2 * w)
    size = try table.word(at: base + 8 + 3 * w)
    link = try table.u32(at: base + 8 + 4 * w)
    info = try table.u32(at: base + 12 + 4 * w)
  }

  var occupiesFile: Bool { Section.occupiesFile(type: type) }
}
