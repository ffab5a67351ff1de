/// The fields of the ELF file header (`ElfN_Ehdr`) the reader needs, decoded for either class.
///
/// The identification bytes (`e_ident`) come first because they say how to read the rest:
/// `EI_CLASS` gives the word size and `EI_DATA` the byte order. Both are taken from the file,
/// never from the host, so one reader handles every architecture.
struct ELFHeader {
  var is64Bit: Bool
  var byteOrder: ByteOrder
  var type: UInt16
  var machine: UInt16
  var programHeaderOffset: UInt64
  var sectionHeaderOffset: UInt64
  var programHeaderEntrySize: Int
  /// `e_phnum`; `PN_XNUM` (0xffff) means the count is in section 0's `sh_info`.
  var programHeaderCount: Int
  var sectionHeaderEntrySize: Int
  /// `e_shnum`; 0 with a non-zero `e_shoff` means the count is in section 0's `sh_size`.
  var sectionHeaderCount: Int
  /// `e_shstrndx`; `SHN_XINDEX` (0xffff) means the index is in section 0's `sh_link`.
  var sectionNameTableIndex: Int

  /// `ELFCLASS32` headers are 52 bytes, `ELFCLASS64` headers 64.
  static let maximumSize = 64
  static let escapeCount = 0xffff  // PN_XNUM and SHN_XINDEX

  /// Decodes the header at the start of `bytes` (which may be shorter than 64 for a tiny file).
  ///
  /// - Throws: `.malformedELF` when the magic, class, byte order or version is wrong, or the
  ///   header is truncated.
  init(_ bytes: [UInt8]) throws(USDTError) {
    guard bytes.count >= 16, bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46 else {
      throw USDTError(.malformedELF, "not an ELF file (no \\x7fELF magic)")
    }
    switch bytes[4] {  // EI_CLASS
    case 1: is64Bit = false
    case 2: is64Bit = true
    default: throw USDTError(.malformedELF, "unknown ELF class \(bytes[4]) (EI_CLASS)")
    }
    switch bytes[5] {  // EI_DATA
    case 1: byteOrder = .little
    case 2: byteOrder = .big
    default: throw USDTError(.malformedELF, "unknown ELF byte order \(bytes[5]) (EI_DATA)")
    }
    guard bytes[6] == 1 else {  // EI_VERSION must be EV_CURRENT
      throw USDTError(.malformedELF, "unknown ELF version \(bytes[6]) (EI_VERSION)")
    }
    let reader = ByteReader(
      bytes: bytes, byteOrder: byteOrder, is64Bit: is64Bit, errorKind: .malformedELF, what: "the ELF header")
    // After e_type, e_machine and e_version come three words (e_entry, e_phoff, e_shoff),
    // so every later field moves with the word size.
    let w = reader.wordSize
    type = try reader.u16(at: 16)
    machine = try reader.u16(at: 18)
    programHeaderOffset = try reader.word(at: 24 + w)
    sectionHeaderOffset = try reader.word(at: 24 + 2 * w)
    programHeaderEntrySize = Int(try reader.u16(at: 30 + 3 * w))
    programHeaderCount = Int(try reader.u16(at: 32 + 3 * w))
    sectionHeaderEntrySize = Int(try reader.u16(at: 34 + 3 * w))
    sectionHeaderCount = Int(try reader.u16(at: 36 + 3 * w))
    sectionNameTableIndex = Int(try reader.u16(at: 38 + 3 * w))
  }
}
