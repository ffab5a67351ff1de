@testable import USDT

/// Appends integers to a byte array in a chosen byte order and ELF class, as an ELF writer would.
struct ByteWriter {
  var bytes: [UInt8] = []
  let byteOrder: ByteOrder
  let is64Bit: Bool

  mutating func append(_ value: UInt64, size: Int) {
    for i in 0..<size {
      let shift = byteOrder == .little ? i * 8 : (size - 1 - i) * 8
      bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
    }
  }
  mutating func u8(_ value: UInt8) { bytes.append(value) }
  mutating func u16(_ value: UInt16) { append(UInt64(value), size: 2) }
  mutating func u32(_ value: UInt32) { append(UInt64(value), size: 4) }
  mutating func u64(_ value: UInt64) { append(value, size: 8) }
  /// An `ElfN_Addr`/`ElfN_Off`: 8 bytes in ELFCLASS64, 4 in ELFCLASS32 (truncated).
  mutating func word(_ value: UInt64) { append(value, size: is64Bit ? 8 : 4) }
  mutating func align(_ alignment: Int) {
    while bytes.count % alignment != 0 { bytes.append(0) }
  }

  /// Overwrites `size` bytes at `offset` with `value`; tests use it to damage a good image.
  static func patch(_ bytes: inout [UInt8], at offset: Int, size: Int, value: UInt64, order: ByteOrder) {
    var writer = ByteWriter(byteOrder: order, is64Bit: true)
    writer.append(value, size: size)
    bytes.replaceSubrange(offset..<(offset + size), with: writer.bytes)
  }
}

/// Builds a small ELF image in memory: header, program headers, section contents, the section
/// name table and the section header table, in that order.
///
/// It writes what the test asks for and checks nothing, so tests can also describe broken files.
struct ELFBuilder {
  struct SectionSpec {
    var name: String
    var type: UInt32 = 1  // SHT_PROGBITS
    var flags: UInt64 = 0
    var address: UInt64 = 0
    var contents: [UInt8] = []
    /// For SHT_NOBITS: the size to record (the section has no bytes in the file).
    var noBitsSize: UInt64 = 0
  }

  var is64Bit: Bool
  var byteOrder: ByteOrder
  var type: UInt16 = 3
  var machine: UInt16 = 62
  /// Written as given, in this order (the reader sorts them); the file is padded with zeros up to
  /// the end of the last segment's file range.
  var segments: [Segment] = []
  /// Sections 1...n; section 0 (SHT_NULL) and `.shstrtab` (last) are added by `build()`.
  var sections: [SectionSpec] = []

  var wordSize: Int { is64Bit ? 8 : 4 }
  var headerSize: Int { is64Bit ? 64 : 52 }
  var programHeaderSize: Int { is64Bit ? 56 : 32 }
  var sectionHeaderSize: Int { is64Bit ? 64 : 40 }

  /// Offsets of the ELF header fields tests like to damage.
  enum Field {
    case phoff, shoff, phentsize, phnum, shentsize, shnum, shstrndx
  }

  func offset(of field: Field) -> Int {
    let w = wordSize
    switch field {
    case .phoff: return 24 + w
    case .shoff: return 24 + 2 * w
    case .phentsize: return 30 + 3 * w
    case .phnum: return 32 + 3 * w
    case .shentsize: return 34 + 3 * w
    case .shnum: return 36 + 3 * w
    case .shstrndx: return 38 + 3 * w
    }
  }

  /// The layout `build()` produced, so tests can find and damage parts of it.
  struct Layout {
    var sectionHeaderOffset: Int
    /// File offset of each section's contents, by section index (0 for the null section).
    var sectionOffsets: [Int]
    var nameTableIndex: Int
  }

  func build() -> [UInt8] { buildWithLayout().bytes }

  func buildWithLayout() -> (bytes: [UInt8], layout: Layout) {
    // Section names, with .shstrtab last.
    var names: [UInt8] = [0]
    var nameOffsets: [UInt32] = []
    for name in sections.map(\.name) + [".shstrtab"] {
      nameOffsets.append(UInt32(names.count))
      names += Array(name.utf8) + [0]
    }
    let all = sections + [SectionSpec(name: ".shstrtab", type: 3, contents: names)]

    let programHeadersOffset = headerSize
    var body = ByteWriter(byteOrder: byteOrder, is64Bit: is64Bit)
    body.bytes = [UInt8](repeating: 0, count: headerSize + segments.count * programHeaderSize)
    var contentOffsets: [Int] = [0]
    for section in all {
      body.align(8)
      contentOffsets.append(body.bytes.count)
      if section.type != 8 { body.bytes += section.contents }
    }
    let segmentEnd = segments.map { Int($0.fileOffset + $0.fileSize) }.max() ?? 0
    if body.bytes.count < segmentEnd { body.bytes += [UInt8](repeating: 0, count: segmentEnd - body.bytes.count) }
    body.align(8)
    let sectionHeaderOffset = body.bytes.count

    // Section header table: the null section, then the others.
    var table = ByteWriter(byteOrder: byteOrder, is64Bit: is64Bit)
    table.bytes = [UInt8](repeating: 0, count: sectionHeaderSize)
    for (i, section) in all.enumerated() {
      let size = section.type == 8 ? section.noBitsSize : UInt64(section.contents.count)
      table.u32(nameOffsets[i])
      table.u32(section.type)
      table.word(section.flags)
      table.word(section.address)
      table.word(UInt64(contentOffsets[i + 1]))
      table.word(size)
      table.u32(0)  // sh_link
      table.u32(0)  // sh_info
      table.word(1)  // sh_addralign
      table.word(0)  // sh_entsize
    }

    // ELF header.
    var header = ByteWriter(byteOrder: byteOrder, is64Bit: is64Bit)
    header.bytes = [0x7f, 0x45, 0x4c, 0x46, is64Bit ? 2 : 1, byteOrder == .little ? 1 : 2, 1]
    header.bytes += [UInt8](repeating: 0, count: 9)
    header.u16(type)
    header.u16(machine)
    header.u32(1)  // e_version
    header.word(0)  // e_entry
    header.word(segments.isEmpty ? 0 : UInt64(programHeadersOffset))
    header.word(UInt64(sectionHeaderOffset))
    header.u32(0)  // e_flags
    header.u16(UInt16(headerSize))
    header.u16(UInt16(programHeaderSize))
    header.u16(UInt16(segments.count))
    header.u16(UInt16(sectionHeaderSize))
    header.u16(UInt16(all.count + 1))
    header.u16(UInt16(all.count))  // .shstrtab is last

    // Program headers; the two classes order the fields differently.
    var phdrs = ByteWriter(byteOrder: byteOrder, is64Bit: is64Bit)
    for segment in segments {
      phdrs.u32(1)  // PT_LOAD
      if is64Bit {
        phdrs.u32(segment.flags)
        phdrs.u64(segment.fileOffset)
        phdrs.u64(segment.virtualAddress)
        phdrs.u64(segment.virtualAddress)  // p_paddr
        phdrs.u64(segment.fileSize)
        phdrs.u64(segment.memorySize)
        phdrs.u64(0x1000)
      } else {
        phdrs.word(segment.fileOffset)
        phdrs.word(segment.virtualAddress)
        phdrs.word(segment.virtualAddress)
        phdrs.word(segment.fileSize)
        phdrs.word(segment.memorySize)
        phdrs.u32(segment.flags)
        phdrs.u32(0x1000)
      }
    }

    var bytes = body.bytes
    bytes.replaceSubrange(0..<header.bytes.count, with: header.bytes)
    bytes.replaceSubrange(programHeadersOffset..<(programHeadersOffset + phdrs.bytes.count), with: phdrs.bytes)
    bytes += table.bytes
    return (bytes, Layout(sectionHeaderOffset: sectionHeaderOffset, sectionOffsets: contentOffsets,
                          nameTableIndex: all.count))
  }
}

/// Builds `.note.stapsdt` contents: ELF notes, each part padded to 4 bytes.
enum NoteBuilder {
  /// A well-formed stapsdt note.
  static func stapsdt(
    pc: UInt64, base: UInt64, semaphore: UInt64, provider: String, name: String, arguments: String,
    is64Bit: Bool, order: ByteOrder
  ) -> [UInt8] {
    var desc = ByteWriter(byteOrder: order, is64Bit: is64Bit)
    desc.word(pc)
    desc.word(base)
    desc.word(semaphore)
    for text in [provider, name, arguments] { desc.bytes += Array(text.utf8) + [0] }
    return note(descriptor: desc.bytes, order: order)
  }

  /// A note with every field chosen by the test; `nameSize`/`descriptorSize` default to the
  /// real lengths but may lie.
  static func note(
    name: [UInt8] = Array("stapsdt".utf8) + [0], nameSize: UInt32? = nil, type: UInt32 = 3,
    descriptor: [UInt8], descriptorSize: UInt32? = nil, order: ByteOrder
  ) -> [UInt8] {
    var w = ByteWriter(byteOrder: order, is64Bit: true)
    w.u32(nameSize ?? UInt32(name.count))
    w.u32(descriptorSize ?? UInt32(descriptor.count))
    w.u32(type)
    w.bytes += name
    w.align(4)
    w.bytes += descriptor
    w.align(4)
    return w.bytes
  }

  /// The three words of a descriptor, followed by `strings` given as raw bytes (no NULs added).
  static func descriptor(words: (UInt64, UInt64, UInt64) = (0x1000, 0, 0), strings: [UInt8], is64Bit: Bool, order: ByteOrder)
    -> [UInt8]
  {
    var d = ByteWriter(byteOrder: order, is64Bit: is64Bit)
    d.word(words.0)
    d.word(words.1)
    d.word(words.2)
    return d.bytes + strings
  }
}

/// The four combinations of class and byte order every synthesized test runs on.
struct ELFKind: Sendable, CustomStringConvertible, CaseIterable {
  var is64Bit: Bool
  var byteOrder: ByteOrder

  static let allCases: [ELFKind] = [
    ELFKind(is64Bit: true, byteOrder: .little), ELFKind(is64Bit: true, byteOrder: .big),
    ELFKind(is64Bit: false, byteOrder: .little), ELFKind(is64Bit: false, byteOrder: .big),
  ]

  var description: String { "ELF\(is64Bit ? 64 : 32) \(byteOrder)-endian" }

  func builder() -> ELFBuilder { ELFBuilder(is64Bit: is64Bit, byteOrder: byteOrder) }
}
