import Foundation
import Testing

@testable import USDT

/// `.symtab`/`.dynsym` decoding and the name lookup behind RIP-relative operands (`gvar(%rip)`).
@Suite("ELF symbol tables")
struct SymbolTests {
  // MARK: Decoding, in all four classes and byte orders

  @Test(arguments: ELFKind.allCases)
  func decodesEveryField(_ kind: ELFKind) throws {
    let high: UInt64 = kind.is64Bit ? 0x1_0000_4010 : 0x8000_4010  // a value only 64 bits can hold
    let image = SymbolImage(kind: kind, symtab: [
      .init("gvar", value: high, size: 4, local: false, type: 1, shndx: 1),
      .init("main", value: 0x1040, size: 0x3c, local: false, type: 2, shndx: 1),
      .init("counter", value: 0x401c, size: 4, local: true, type: 1, shndx: 1),
      .init("abs", value: 0x1234, local: true, type: 0, shndx: 0xfff1),
      .init("puts", value: 0, local: false, type: 2, shndx: 0),
      .init("tls", value: 8, size: 4, local: false, type: 6, shndx: 1),
    ])
    let table = try ELFFile(bytes: image.build(), path: "/img").symbolTable()
    #expect(table.dynsym.isEmpty)
    #expect(table.symtab == [
      Symbol(name: "", value: 0, size: 0, isLocal: true, isDefined: false, type: 0, sectionIndex: 0),
      Symbol(name: "gvar", value: high, size: 4, isLocal: false, isDefined: true, type: 1, sectionIndex: 1),
      Symbol(name: "main", value: 0x1040, size: 0x3c, isLocal: false, isDefined: true, type: 2, sectionIndex: 1),
      Symbol(name: "counter", value: 0x401c, size: 4, isLocal: true, isDefined: true, type: 1, sectionIndex: 1),
      Symbol(name: "abs", value: 0x1234, size: 0, isLocal: true, isDefined: true, type: 0, sectionIndex: 0xfff1),
      Symbol(name: "puts", value: 0, size: 0, isLocal: false, isDefined: false, type: 2, sectionIndex: 0),
      Symbol(name: "tls", value: 8, size: 4, isLocal: false, isDefined: true, type: 6, sectionIndex: 1),
    ])
    #expect(try table.address(of: "gvar") == high)
    #expect(try table.address(of: "counter") == 0x401c)
    #expect(try table.address(of: "abs") == 0x1234)
  }

  @Test(arguments: ELFKind.allCases)
  func readsBothTables(_ kind: ELFKind) throws {
    let image = SymbolImage(
      kind: kind, symtab: [.init("gvar", value: 0x4010)], dynsym: [.init("exported", value: 0x2000)])
    let table = try ELFFile(bytes: image.build(), path: "/img").symbolTable()
    #expect(table.symtab.map(\.name) == ["", "gvar"])
    #expect(table.dynsym.map(\.name) == ["", "exported"])
  }

  /// `sh_entsize` larger than the structure is a stride, as libelf treats it.
  @Test(arguments: ELFKind.allCases)
  func honoursALargerEntrySize(_ kind: ELFKind) throws {
    var image = SymbolImage(kind: kind, symtab: [.init("a", value: 1), .init("b", value: 2)])
    image.padding = 8
    let table = try ELFFile(bytes: image.build(), path: "/img").symbolTable()
    #expect(table.symtab.map(\.value) == [0, 1, 2])
  }

  @Test func filesWithoutTablesHaveNoSymbols() throws {
    let table = try ELFFile(bytes: SymbolImage(kind: ELFKind.allCases[0]).build(), path: "/img").symbolTable()
    #expect(table.symtab.isEmpty && table.dynsym.isEmpty)
    let error = try #require(throws: USDTError.self) { try table.address(of: "gvar") }
    #expect(error.kind == .unsupportedOperand)
    #expect(error.binary == "/img")
  }

  /// `SHN_XINDEX` takes the real index from the `SHT_SYMTAB_SHNDX` section linked to the table.
  @Test(arguments: ELFKind.allCases)
  func resolvesExtendedSectionIndices(_ kind: ELFKind) throws {
    var image = SymbolImage(
      kind: kind, symtab: [.init("a", value: 1, shndx: 1), .init("far", value: 2, shndx: 0xffff)])
    image.extendedIndices = [0, 0, 70000]
    let table = try ELFFile(bytes: image.build(), path: "/img").symbolTable()
    #expect(table.symtab.map(\.sectionIndex) == [0, 1, 70000])
    #expect(table.symtab[2].isDefined)

    image.extendedIndices = nil
    let error = try #require(throws: USDTError.self) { try ELFFile(bytes: image.build(), path: "/img").symbolTable() }
    #expect(error.kind == .malformedELF)
  }

  // MARK: Lookup rules

  /// Two `static int counter` of different translation units: the operand cannot say which.
  @Test(arguments: ELFKind.allCases)
  func rejectsSameNameAtDifferentAddresses(_ kind: ELFKind) throws {
    let image = SymbolImage(kind: kind, symtab: [
      .init("counter", value: 0x4014, local: true), .init("counter", value: 0x401c, local: true),
    ], dynsym: [.init("counter", value: 0x4014)])
    let table = try ELFFile(bytes: image.build(), path: "/img").symbolTable()
    let error = try #require(throws: USDTError.self) { try table.address(of: "counter") }
    #expect(error.kind == .unsupportedOperand)
    #expect(error.input == "counter")
    #expect(error.binary == "/img")
    #expect(error.message.contains("0x4014") && error.message.contains("0x401c"))
  }

  @Test func acceptsDuplicatesAtOneAddress() throws {
    let image = SymbolImage(kind: ELFKind.allCases[0], symtab: [
      .init("gvar", value: 0x4010, local: false), .init("gvar", value: 0x4010, local: true),
      .init("alias", value: 0x4010), .init("gvar", value: 0x9999, shndx: 0),  // undefined: ignored
    ], dynsym: [.init("gvar", value: 0x4010)])
    let table = try ELFFile(bytes: image.build(), path: "/img").symbolTable()
    #expect(try table.address(of: "gvar") == 0x4010)
    #expect(try table.address(of: "alias") == 0x4010)
  }

  @Test func prefersSymtabOverDynsym() throws {
    let image = SymbolImage(
      kind: ELFKind.allCases[1], symtab: [.init("gvar", value: 0x1000)],
      dynsym: [.init("gvar", value: 0x2000), .init("gvar", value: 0x3000), .init("onlydyn", value: 0x5000)])
    let table = try ELFFile(bytes: image.build(), path: "/img").symbolTable()
    #expect(try table.address(of: "gvar") == 0x1000)  // .dynsym's conflict is never consulted
    #expect(try table.address(of: "onlydyn") == 0x5000)
  }

  /// A stripped binary: only `.dynsym`, so locals are gone and imports are not definitions.
  @Test(arguments: ELFKind.allCases)
  func strippedFileResolvesFromDynsym(_ kind: ELFKind) throws {
    let image = SymbolImage(
      kind: kind, dynsym: [.init("gvar", value: 0x4010), .init("environ", value: 0, type: 1, shndx: 0)])
    let table = try ELFFile(bytes: image.build(), path: "/img").symbolTable()
    #expect(table.symtab.isEmpty)
    #expect(try table.address(of: "gvar") == 0x4010)
    for name in ["counter", "environ", ""] {
      let error = try #require(throws: USDTError.self) { try table.address(of: name) }
      #expect(error.kind == .unsupportedOperand)
    }
  }

  /// Names that are no addresses: sections, files, common blocks; thread-locals are refused.
  @Test func ignoresSymbolsThatAreNoAddresses() throws {
    let image = SymbolImage(kind: ELFKind.allCases[2], symtab: [
      .init("a.c", value: 0, local: true, type: 4, shndx: 0xfff1),
      .init(".data", value: 0x4000, local: true, type: 3),
      .init("common", value: 8, type: 1, shndx: 0xfff2),
      .init("tls", value: 8, type: 6),
    ])
    let table = try ELFFile(bytes: image.build(), path: "/img").symbolTable()
    for name in ["a.c", ".data", "common", "tls"] {
      let error = try #require(throws: USDTError.self) { try table.address(of: name) }
      #expect(error.kind == .unsupportedOperand)
    }
  }

  // MARK: Malformed tables

  enum Damage: String, CaseIterable, Sendable {
    case entrySizeZero, entrySizeTooSmall, sizeNotMultiple, linkZero, linkOutOfRange, linkNotStrtab
    case nameOutOfRange, nameUnterminated, extendedIndexTableShort
  }

  @Test(arguments: ELFKind.allCases, Damage.allCases)
  func rejectsMalformedTables(_ kind: ELFKind, _ damage: Damage) throws {
    var image = SymbolImage(kind: kind, symtab: [.init("gvar", value: 0x4010), .init("x", value: 1)])
    let symbolSize = kind.is64Bit ? 24 : 16
    switch damage {
    case .entrySizeZero: image.entrySizeOverride = 0
    case .entrySizeTooSmall: image.entrySizeOverride = UInt64(symbolSize - 4)
    case .sizeNotMultiple: image.trailingBytes = 5
    case .linkZero: image.linkOverride = 0
    case .linkOutOfRange: image.linkOverride = 999
    case .linkNotStrtab: image.linkOverride = 1  // .text
    case .nameOutOfRange: image.nameOffsetOverride = 10_000
    case .nameUnterminated: image.unterminatedStrings = true
    case .extendedIndexTableShort:
      image.symtab?[1].shndx = 0xffff
      image.extendedIndices = [0]  // one entry for three symbols
    }
    let elf = try ELFFile(bytes: image.build(), path: "/bad")
    let error = try #require(throws: USDTError.self) { try elf.symbolTable() }
    #expect(error.kind == .malformedELF)
    #expect(error.binary == "/bad")
  }

  // MARK: A real binary, against nm

  /// Built by make-fixtures.sh from src/symbols-{a,b}.c: two units, each with its own
  /// `static int counter`, and the global `gvar`, which the probes read as `gvar(%rip)`.
  static let fixture = "x86_64-gcc-symbols"

  @Test func fixtureMatchesNm() throws {
    let elf = try ELFFile(path: try ELFFixture.url(Self.fixture).path)
    let table = try elf.symbolTable()
    let nm = try NmLine.load(Self.fixture + ".nm")
    let defined = nm.filter { $0.value != nil }
    #expect(defined.count >= 10, "nm listing has too few defined symbols")
    for line in defined {
      let matches = table.symtab.filter { $0.name == line.name && $0.value == line.value }
      #expect(matches.count == 1, "nm: \(line.name) at \(line.value ?? 0)")
      #expect(matches.first?.isLocal == line.isLocal, "binding of \(line.name)")
    }
    // Every name nm lists once resolves to nm's address; the rest are ambiguous.
    let valuesByName = Dictionary(grouping: defined, by: \.name).mapValues { Set($0.compactMap(\.value)) }
    for (name, values) in valuesByName {
      if values.count == 1 {
        #expect(try table.address(of: name) == values.first, "\(name)")
      } else {
        let error = try #require(throws: USDTError.self) { try table.address(of: name) }
        #expect(error.kind == .unsupportedOperand)
      }
    }
  }

  /// Spot values from `nm x86_64-gcc-symbols` when it was built; regenerate together with it.
  @Test func fixtureSpotValues() throws {
    let elf = try ELFFile(path: try ELFFixture.url(Self.fixture).path)
    let table = try elf.symbolTable()
    #expect(try table.address(of: "gvar") == 0x4010)  // 0000000000004010 D gvar
    let counters = table.symtab.filter { $0.name == "counter" }
    #expect(Set(counters.map(\.value)) == [0x4014, 0x401c])  // d counter, b counter
    #expect(counters.allSatisfy { $0.isLocal && $0.type == Symbol.objectType })
    let error = try #require(throws: USDTError.self) { try table.address(of: "counter") }
    #expect(error.kind == .unsupportedOperand)
    #expect(error.message.contains("0x4014, 0x401c"))
    // The probes really do name these symbols.
    let notes = try elf.stapsdtNotes().notes
    #expect(notes.count == 2)
    #expect(notes.allSatisfy { $0.arguments == "-4@gvar(%rip) -4@counter(%rip)" })
  }
}

/// One line of `nm` output: `VALUE TYPE NAME`, or `TYPE NAME` for undefined symbols.
struct NmLine: Sendable {
  var value: UInt64?
  var type: Character
  var name: String
  /// nm prints local symbols with a lower-case type letter (`d`, `b`, `t`, `r`).
  var isLocal: Bool { type.isLowercase }

  static func load(_ file: String) throws -> [NmLine] {
    let text = try String(contentsOf: try ELFFixture.url(file), encoding: .utf8)
    let lines = try text.split(separator: "\n").map { line throws -> NmLine in
      let fields = line.split(separator: " ")
      switch fields.count {
      case 3:
        guard let value = UInt64(fields[0], radix: 16), let type = fields[1].first else { break }
        return NmLine(value: value, type: type, name: String(fields[2]))
      case 2:
        guard let type = fields[0].first else { break }
        return NmLine(value: nil, type: type, name: String(fields[1]))
      default: break
      }
      throw Readelf.ParseError(description: "\(file): cannot read nm line \"\(line)\"")
    }
    guard !lines.isEmpty else { throw Readelf.ParseError(description: "\(file) has no symbols") }
    return lines
  }
}

/// An ELF image with `.symtab`/`.strtab` and `.dynsym`/`.dynstr`, built with ``ELFBuilder``.
///
/// ELFBuilder writes `sh_link` and `sh_entsize` as 0, so `build()` patches them into the section
/// headers afterwards; the `…Override` fields let a test write wrong values instead.
struct SymbolImage {
  struct Entry {
    var name: String
    var value: UInt64
    var size: UInt64 = 0
    var local = false
    var type: UInt8 = 1
    var shndx: UInt16 = 1

    init(_ name: String, value: UInt64, size: UInt64 = 0, local: Bool = false, type: UInt8 = 1, shndx: UInt16 = 1) {
      self.name = name
      self.value = value
      self.size = size
      self.local = local
      self.type = type
      self.shndx = shndx
    }
  }

  var kind: ELFKind
  /// nil: no `.symtab`. The null symbol 0 is added in front.
  var symtab: [Entry]? = nil
  var dynsym: [Entry]? = nil
  /// Extra zero bytes after each entry: `sh_entsize` grows by this much.
  var padding = 0
  /// Bytes appended to `.symtab`, so its size is no multiple of `sh_entsize`.
  var trailingBytes = 0
  var entrySizeOverride: UInt64?
  var linkOverride: UInt32?
  /// Written as `st_name` of `.symtab`'s symbol 1.
  var nameOffsetOverride: UInt32?
  /// Drops the last NUL of `.strtab`.
  var unterminatedStrings = false
  /// Contents of an `SHT_SYMTAB_SHNDX` section linked to `.symtab`, one word per symbol.
  var extendedIndices: [UInt32]? = nil

  init(kind: ELFKind, symtab: [Entry]? = nil, dynsym: [Entry]? = nil) {
    self.kind = kind
    self.symtab = symtab
    self.dynsym = dynsym
  }

  var symbolSize: Int { kind.is64Bit ? 24 : 16 }

  func build() -> [UInt8] {
    var builder = kind.builder()
    builder.sections = [.init(name: ".text", type: 1, flags: 6, address: 0x1000, contents: [0x90])]
    // Section index (in the file) → (sh_link, sh_entsize) to patch.
    var patches: [(index: Int, link: UInt32, entrySize: UInt64)] = []
    for (tableName, stringsName, type, entries) in [
      (".symtab", ".strtab", UInt32(2), symtab), (".dynsym", ".dynstr", UInt32(11), dynsym),
    ] {
      guard let entries else { continue }
      let isSymtab = type == 2
      var (symbols, strings) = encode(entries, damageName: isSymtab ? nameOffsetOverride : nil)
      if isSymtab { symbols += [UInt8](repeating: 0, count: trailingBytes) }
      if isSymtab && unterminatedStrings { strings.removeLast() }
      let tableIndex = builder.sections.count + 1
      builder.sections.append(.init(name: tableName, type: type, contents: symbols))
      builder.sections.append(.init(name: stringsName, type: 3, contents: strings))
      patches.append(
        (tableIndex, isSymtab ? (linkOverride ?? UInt32(tableIndex + 1)) : UInt32(tableIndex + 1),
         isSymtab ? (entrySizeOverride ?? UInt64(symbolSize + padding)) : UInt64(symbolSize + padding)))
      if isSymtab, let extendedIndices {
        var words = ByteWriter(byteOrder: kind.byteOrder, is64Bit: kind.is64Bit)
        extendedIndices.forEach { words.u32($0) }
        builder.sections.append(.init(name: ".symtab_shndx", type: 18, contents: words.bytes))
        patches.append((builder.sections.count, UInt32(tableIndex), 4))
      }
    }
    var (bytes, layout) = builder.buildWithLayout()
    let w = kind.is64Bit ? 8 : 4
    for patch in patches {
      let header = layout.sectionHeaderOffset + patch.index * builder.sectionHeaderSize
      ByteWriter.patch(&bytes, at: header + 8 + 4 * w, size: 4, value: UInt64(patch.link), order: kind.byteOrder)
      ByteWriter.patch(&bytes, at: header + 16 + 5 * w, size: w, value: patch.entrySize, order: kind.byteOrder)
    }
    return bytes
  }

  /// The table bytes (null symbol first) and its string table.
  private func encode(_ entries: [Entry], damageName: UInt32?) -> (symbols: [UInt8], strings: [UInt8]) {
    var strings: [UInt8] = [0]
    var out = ByteWriter(byteOrder: kind.byteOrder, is64Bit: kind.is64Bit)
    out.bytes = [UInt8](repeating: 0, count: symbolSize + padding)
    for (i, entry) in entries.enumerated() {
      var nameOffset = UInt32(strings.count)
      strings += Array(entry.name.utf8) + [0]
      if i == 0, let damageName { nameOffset = damageName }
      let info = (entry.local ? 0 : 1) << 4 | entry.type
      out.u32(nameOffset)
      if kind.is64Bit {
        out.u8(info)
        out.u8(0)
        out.u16(entry.shndx)
        out.u64(entry.value)
        out.u64(entry.size)
      } else {
        out.u32(UInt32(truncatingIfNeeded: entry.value))
        out.u32(UInt32(truncatingIfNeeded: entry.size))
        out.u8(info)
        out.u8(0)
        out.u16(entry.shndx)
      }
      out.bytes += [UInt8](repeating: 0, count: padding)
    }
    return (out.bytes, strings)
  }
}
