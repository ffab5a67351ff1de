/// One section header, with its name resolved through `e_shstrndx`.
///
/// The reader needs sections only to find `.note.stapsdt` and `.stapsdt.base` by name, as libbpf
/// does; everything else is kept so tools can show it.
public struct Section: Sendable, Hashable {
  /// The name from the section-name string table (`""` when the file has none).
  public let name: String
  /// `sh_type`: `SHT_NOTE` is 7, `SHT_NOBITS` is 8.
  public let type: UInt32
  /// `sh_flags`: `SHF_WRITE` 1, `SHF_ALLOC` 2, `SHF_EXECINSTR` 4.
  public let flags: UInt64
  /// `sh_addr`: the link-time address, 0 for sections that are not loaded (like the notes).
  public let address: UInt64
  /// `sh_offset`: where the contents start in the file.
  public let fileOffset: UInt64
  /// `sh_size`: the size in bytes; a `SHT_NOBITS` section occupies none of the file.
  public let size: UInt64

  static let noteType: UInt32 = 7
  static let noBitsType: UInt32 = 8

  /// Whether the section has bytes in the file; `SHT_NOBITS` (`.bss`) and `SHT_NULL` do not.
  var occupiesFile: Bool { Section.occupiesFile(type: type) }

  static func occupiesFile(type: UInt32) -> Bool {
    type != noBitsType && type != 0
  }
}
