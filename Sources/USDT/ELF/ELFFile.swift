// The ELF reader: from a file on disk to the stapsdt notes and the file offsets a uprobe needs.
//
// The pipeline, in order:
// 1. `ELFSource` opens the file (or wraps bytes given by a test) and records its size.
// 2. `ELFHeader` decodes `e_ident` first; its class and byte order decide how everything after
//    it is read (`ByteReader`). Nothing depends on the host, so an s390x or 32-bit ARM library
//    can be listed on x86-64.
// 3. `HeaderTables` reads the program headers (keeping the `PT_LOAD` ones as `Segment`s) and
//    the section headers (as `Section`s, named through `e_shstrndx`). Each count, offset and
//    size is checked against the file before anything is allocated or read.
// 4. `stapsdtNotes()` (ELFFile+Notes.swift) reads `.note.stapsdt` on demand and decodes each
//    note; a bad note becomes a `problem` and does not hide the good ones.
// 5. `fileOffset(ofCode:)` / `fileOffset(ofData:)` (ELFFile+Addresses.swift) translate a note's
//    pc and semaphore, after the `.stapsdt.base` adjustment (`StapsdtNote`), into the file
//    offsets the kernel attaches at.
//
// Reference: shared/reference/format.md (note layout §2, prelink rule §3, PT_LOAD §5).

/// An ELF file of any class and byte order, with its loadable segments and named sections.
///
/// Only the headers are read when it is created. Section contents are read on demand from the
/// same open file, so the values stay consistent with the headers.
public struct ELFFile: Sendable {
  /// The path it was opened from (or the label given to ``init(bytes:path:)``); errors carry it.
  public let path: String
  /// `EI_CLASS`: `ELFCLASS64` rather than `ELFCLASS32`. Decides the width of note addresses.
  public let is64Bit: Bool
  /// `EI_DATA`: the order of every multi-byte field, note descriptors included.
  public let byteOrder: ByteOrder
  /// `e_machine`, e.g. 62 for x86-64, 183 for AArch64, 22 for s390.
  public let machine: UInt16
  /// The architecture whose argument grammar applies, or nil for a machine we do not know.
  public let architecture: Architecture?
  /// `e_type`: 1 `ET_REL`, 2 `ET_EXEC`, 3 `ET_DYN` (shared objects and PIE executables).
  public let type: UInt16
  /// The `PT_LOAD` segments, sorted by virtual address (ties keep header order).
  public let segments: [Segment]
  /// Every section header, in header order, so index `i` is section `i` (0 is the null section).
  public let sections: [Section]

  private let source: ELFSource

  /// `ET_DYN`: the load address differs per process, so a runtime address needs the process's
  /// maps; libbpf tests exactly this (`format.md` §6).
  public var isSharedObjectOrPIE: Bool { type == 3 }

  /// Opens the file at `path` and reads its headers, but not the rest of the file.
  ///
  /// - Throws: `.systemCall` with `errno` when it cannot be opened or read (`ENOENT`, `EACCES`,
  ///   `EISDIR` for a directory); `.malformedELF` when it is not an ELF file or its headers are
  ///   inconsistent. The error's `binary` is `path`.
  public init(path: String) throws(USDTError) {
    let source: ELFSource
    do {
      source = try ELFSource(path: path)
    } catch {
      throw error.adding(binary: path)
    }
    try self.init(source: source, path: path)
  }

  /// Reads an ELF image held in memory; `path` only labels errors. Meant for tests and fuzzing.
  ///
  /// - Throws: `.malformedELF`, as ``init(path:)``.
  public init(bytes: [UInt8], path: String) throws(USDTError) {
    try self.init(source: ELFSource(bytes: bytes), path: path)
  }

  private init(source: ELFSource, path: String) throws(USDTError) {
    do throws(USDTError) {
      let header = try ELFHeader(
        source.read(at: 0, count: Int(min(source.size, UInt64(ELFHeader.maximumSize)))))
      let tables = try HeaderTables(source: source, header: header)
      self.path = path
      self.is64Bit = header.is64Bit
      self.byteOrder = header.byteOrder
      self.machine = header.machine
      self.type = header.type
      self.architecture = Architecture(
        machine: header.machine, is64Bit: header.is64Bit, isLittleEndian: header.byteOrder == .little)
      self.sections = tables.sections
      self.segments = tables.segments
      self.source = source
    } catch {
      throw error.adding(binary: path)
    }
  }

  /// The first section called `name`, as libbpf looks up `.note.stapsdt` and `.stapsdt.base`.
  public func section(named name: String) -> Section? {
    sections.first { $0.name == name }
  }

  /// The bytes of `section`; empty for `SHT_NOBITS` sections such as `.bss`.
  ///
  /// - Throws: `.malformedELF` when the section does not fit in the file (checked when the file
  ///   was opened, so only for a `Section` not from this file), `.systemCall` when reading fails.
  public func contents(of section: Section) throws(USDTError) -> [UInt8] {
    guard section.occupiesFile else { return [] }
    guard let count = Int(exactly: section.size) else {
      throw USDTError(.malformedELF, "section \(section.name) is too large (\(section.size) bytes)", binary: path)
    }
    return try bytes(atFileOffset: section.fileOffset, count: count)
  }

  /// The bytes `offset ..< offset + count` of the file, e.g. the instruction at a probe's offset.
  ///
  /// - Throws: `.malformedELF` when the range is not inside the file, `.systemCall` when
  ///   `pread(2)` fails.
  public func bytes(atFileOffset offset: UInt64, count: Int) throws(USDTError) -> [UInt8] {
    do throws(USDTError) {
      return try source.read(at: offset, count: count)
    } catch {
      throw error.adding(binary: path)
    }
  }

  /// `0x…` for messages: addresses and offsets read better in hex, as `readelf` prints them.
  static func hex(_ value: UInt64) -> String {
    "0x" + String(value, radix: 16)
  }

  /// A reader over bytes of this file, in its class and byte order.
  func reader(_ bytes: [UInt8], errorKind: USDTError.Kind, what: String) -> ByteReader {
    ByteReader(bytes: bytes, byteOrder: byteOrder, is64Bit: is64Bit, errorKind: errorKind, what: what)
  }
}
