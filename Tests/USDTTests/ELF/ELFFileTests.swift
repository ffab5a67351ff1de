import Foundation
import Testing

@testable import USDT

@Suite("ELF headers, segments and sections")
struct ELFFileTests {
  /// A small image with segments out of order, a NOBITS section and a named note section.
  static func sample(_ kind: ELFKind, machine: UInt16 = 183, type: UInt16 = 2) -> ELFBuilder {
    var b = kind.builder()
    b.machine = machine
    b.type = type
    b.segments = [
      Segment(virtualAddress: 0x2000, fileOffset: 0x200, fileSize: 0x10, memorySize: 0x40, flags: 6),
      Segment(virtualAddress: 0x1000, fileOffset: 0x100, fileSize: 0x20, memorySize: 0x20, flags: 5),
    ]
    b.sections = [
      .init(name: ".text", type: 1, flags: 6, address: 0x1000, contents: [0x90, 0x90, 0xc3]),
      .init(name: ".bss", type: 8, flags: 3, address: 0x2010, noBitsSize: 0x30),
      .init(name: ".comment", type: 1, contents: Array("hello\0".utf8)),
    ]
    return b
  }

  @Test(arguments: ELFKind.allCases)
  func readsHeaderInAnyClassAndByteOrder(_ kind: ELFKind) throws {
    let elf = try ELFFile(bytes: Self.sample(kind).build(), path: "sample")
    #expect(elf.path == "sample")
    #expect(elf.is64Bit == kind.is64Bit)
    #expect(elf.byteOrder == kind.byteOrder)
    #expect(elf.machine == 183)
    #expect(elf.architecture == .aarch64)
    #expect(elf.type == 2)
    #expect(!elf.isSharedObjectOrPIE)
  }

  @Test(arguments: [
    (UInt16(62), true, ByteOrder.little, Architecture.x86_64),
    (22, true, .big, .s390x),
    (21, true, .little, .ppc64le),
    (21, true, .big, .ppc64),
    (20, false, .big, .ppc),
    (40, false, .little, .arm),
    (243, false, .little, .riscv32),
  ])
  func mapsMachineToArchitecture(_ machine: UInt16, _ is64Bit: Bool, _ order: ByteOrder, _ expected: Architecture)
    throws
  {
    var b = ELFBuilder(is64Bit: is64Bit, byteOrder: order)
    b.machine = machine
    #expect(try ELFFile(bytes: b.build(), path: "m").architecture == expected)
  }

  @Test func unknownMachineHasNoArchitecture() throws {
    var b = ELFKind.allCases[0].builder()
    b.machine = 0x9999
    let elf = try ELFFile(bytes: b.build(), path: "m")
    #expect(elf.machine == 0x9999)
    #expect(elf.architecture == nil)
  }

  @Test(arguments: ELFKind.allCases)
  func sharedObjectsAndPIEsAreETDYN(_ kind: ELFKind) throws {
    var b = kind.builder()
    b.type = 3
    #expect(try ELFFile(bytes: b.build(), path: "so").isSharedObjectOrPIE)
  }

  @Test(arguments: ELFKind.allCases)
  func keepsOnlyLoadSegmentsSortedByAddress(_ kind: ELFKind) throws {
    let elf = try ELFFile(bytes: Self.sample(kind).build(), path: "sample")
    #expect(elf.segments == [
      Segment(virtualAddress: 0x1000, fileOffset: 0x100, fileSize: 0x20, memorySize: 0x20, flags: 5),
      Segment(virtualAddress: 0x2000, fileOffset: 0x200, fileSize: 0x10, memorySize: 0x40, flags: 6),
    ])
    #expect(elf.segments[0].isExecutable && !elf.segments[0].isWritable)
    #expect(!elf.segments[1].isExecutable && elf.segments[1].isWritable)
  }

  @Test(arguments: ELFKind.allCases)
  func namesSectionsAndReadsTheirContents(_ kind: ELFKind) throws {
    let elf = try ELFFile(bytes: Self.sample(kind).build(), path: "sample")
    #expect(elf.sections.map(\.name) == ["", ".text", ".bss", ".comment", ".shstrtab"])
    let text = try #require(elf.section(named: ".text"))
    #expect(text.type == 1 && text.flags == 6 && text.address == 0x1000 && text.size == 3)
    #expect(try elf.contents(of: text) == [0x90, 0x90, 0xc3])
    let bss = try #require(elf.section(named: ".bss"))
    #expect(bss.size == 0x30)
    #expect(try elf.contents(of: bss) == [])
    #expect(try elf.contents(of: try #require(elf.section(named: ".comment"))) == Array("hello\0".utf8))
    #expect(elf.section(named: ".note.stapsdt") == nil)
    #expect(try elf.bytes(atFileOffset: text.fileOffset + 2, count: 1) == [0xc3])
  }

  @Test func fileWithoutSectionsOrSegments() throws {
    var bytes = ELFKind.allCases[0].builder().build()
    let b = ELFKind.allCases[0].builder()
    for field in [ELFBuilder.Field.shoff, .shnum, .shstrndx] {
      ByteWriter.patch(&bytes, at: b.offset(of: field), size: field == .shoff ? 8 : 2, value: 0, order: .little)
    }
    let elf = try ELFFile(bytes: bytes, path: "bare")
    #expect(elf.sections.isEmpty && elf.segments.isEmpty)
    #expect(elf.stapsdtBaseAddress == 0)
    let notes = try elf.stapsdtNotes()
    #expect(notes.notes.isEmpty && notes.problems.isEmpty)
  }

  /// gABI extended numbering: `e_shnum` 0 and `e_shstrndx` SHN_XINDEX defer to section 0.
  @Test(arguments: ELFKind.allCases)
  func extendedSectionNumbering(_ kind: ELFKind) throws {
    let b = Self.sample(kind)
    var (bytes, layout) = b.buildWithLayout()
    let w = b.wordSize
    let zero = layout.sectionHeaderOffset
    ByteWriter.patch(&bytes, at: zero + 8 + 3 * w, size: w, value: 5, order: kind.byteOrder)  // sh_size
    ByteWriter.patch(&bytes, at: zero + 8 + 4 * w, size: 4, value: 4, order: kind.byteOrder)  // sh_link
    ByteWriter.patch(&bytes, at: b.offset(of: .shnum), size: 2, value: 0, order: kind.byteOrder)
    ByteWriter.patch(&bytes, at: b.offset(of: .shstrndx), size: 2, value: 0xffff, order: kind.byteOrder)
    let elf = try ELFFile(bytes: bytes, path: "xnum")
    #expect(elf.sections.map(\.name) == ["", ".text", ".bss", ".comment", ".shstrtab"])
  }

  // MARK: Malformed files

  /// One way of damaging a good image; each must give `.malformedELF`, never a trap.
  struct Damage: Sendable, CustomStringConvertible {
    var description: String
    var apply: @Sendable (inout [UInt8], ELFBuilder, ELFBuilder.Layout) -> Void
  }

  static func field(_ f: ELFBuilder.Field, _ value: UInt64) -> @Sendable (inout [UInt8], ELFBuilder, ELFBuilder.Layout)
    -> Void
  {
    { bytes, b, _ in
      let size = (f == .phoff || f == .shoff) ? b.wordSize : 2
      ByteWriter.patch(&bytes, at: b.offset(of: f), size: size, value: value, order: b.byteOrder)
    }
  }

  /// Patches field `at` (relative to the header of section `index`) of the section header table.
  static func sectionField(_ index: Int, _ at: @escaping @Sendable (Int) -> Int, size: @escaping @Sendable (Int) -> Int, _ value: UInt64)
    -> @Sendable (inout [UInt8], ELFBuilder, ELFBuilder.Layout) -> Void
  {
    { bytes, b, layout in
      let base = layout.sectionHeaderOffset + index * b.sectionHeaderSize
      ByteWriter.patch(&bytes, at: base + at(b.wordSize), size: size(b.wordSize), value: value, order: b.byteOrder)
    }
  }

  static let damages: [Damage] = [
    Damage(description: "empty file") { bytes, _, _ in bytes = [] },
    Damage(description: "3 bytes") { bytes, _, _ in bytes = [0x7f, 0x45, 0x4c] },
    Damage(description: "not ELF") { bytes, _, _ in bytes = Array("#!/bin/sh\necho hello, this is a script\n".utf8) },
    Damage(description: "bad magic") { bytes, _, _ in bytes[1] = 0x46 },
    Damage(description: "EI_CLASS 3") { bytes, _, _ in bytes[4] = 3 },
    Damage(description: "EI_DATA 0") { bytes, _, _ in bytes[5] = 0 },
    Damage(description: "EI_VERSION 2") { bytes, _, _ in bytes[6] = 2 },
    Damage(description: "header cut at 40 bytes") { bytes, _, _ in bytes = Array(bytes.prefix(40)) },
    Damage(description: "header cut at 17 bytes") { bytes, _, _ in bytes = Array(bytes.prefix(17)) },
    Damage(description: "e_phentsize too small", apply: field(.phentsize, 8)),
    Damage(description: "e_shentsize too small", apply: field(.shentsize, 16)),
    Damage(description: "e_phoff past the end", apply: field(.phoff, 0x10_0000)),
    Damage(description: "e_phoff + table size overflows", apply: field(.phoff, UInt64.max - 15)),
    Damage(description: "e_shoff past the end", apply: field(.shoff, 0x10_0000)),
    Damage(description: "e_shoff + table size overflows", apply: field(.shoff, UInt64.max - 15)),
    Damage(description: "e_shnum too large for the file", apply: field(.shnum, 0xff00)),
    Damage(description: "e_shstrndx out of range", apply: field(.shstrndx, 9)),
    Damage(description: "e_shoff 0 with sections", apply: field(.shoff, 0)),
    Damage(description: "e_phnum too large for the file", apply: field(.phnum, 0xfffe)),
    Damage(description: "e_phoff 0 with segments", apply: field(.phoff, 0)),
    Damage(description: "PN_XNUM with absurd sh_info", apply: { bytes, b, layout in
      field(.phnum, 0xffff)(&bytes, b, layout)
      sectionField(0, { 12 + 4 * $0 }, size: { _ in 4 }, 0x7fff_ffff)(&bytes, b, layout)
    }),
    Damage(description: "absurd extended e_shnum", apply: { bytes, b, layout in
      field(.shnum, 0)(&bytes, b, layout)
      sectionField(0, { 8 + 3 * $0 }, size: { $0 }, 0xffff_ffff)(&bytes, b, layout)
    }),
    Damage(description: "section past the end", apply: sectionField(1, { 8 + 2 * $0 }, size: { $0 }, 0x10_0000)),
    Damage(description: "section size overflows", apply: sectionField(3, { 8 + 3 * $0 }, size: { $0 }, UInt64.max)),
    Damage(description: "section name offset outside .shstrtab", apply: sectionField(1, { _ in 0 }, size: { _ in 4 }, 0x1000)),
    Damage(description: ".shstrtab is NOBITS", apply: sectionField(4, { _ in 4 }, size: { _ in 4 }, 8)),
    Damage(description: ".shstrtab without a final NUL", apply: { bytes, b, layout in
      // Shrink .shstrtab by one byte, dropping the NUL that ends ".shstrtab".
      let base = layout.sectionHeaderOffset + 4 * b.sectionHeaderSize + 8 + 3 * b.wordSize
      let size = UInt64(bytes[base + (b.byteOrder == .little ? 0 : b.wordSize - 1)])
      ByteWriter.patch(&bytes, at: base, size: b.wordSize, value: size - 1, order: b.byteOrder)
    }),
    Damage(description: "PT_LOAD past the end", apply: { bytes, b, _ in
      // p_offset of the first program header.
      ByteWriter.patch(&bytes, at: b.headerSize + (b.is64Bit ? 8 : 4), size: b.wordSize, value: 0x10_0000, order: b.byteOrder)
    }),
    Damage(description: "PT_LOAD p_filesz > p_memsz", apply: { bytes, b, _ in
      ByteWriter.patch(&bytes, at: b.headerSize + (b.is64Bit ? 32 : 16), size: b.wordSize, value: 0x41, order: b.byteOrder)
    }),
  ]

  @Test(arguments: damages, ELFKind.allCases)
  func rejectsMalformedFiles(_ damage: Damage, _ kind: ELFKind) throws {
    let b = Self.sample(kind)
    var (bytes, layout) = b.buildWithLayout()
    damage.apply(&bytes, b, layout)
    let error = try #require(throws: USDTError.self) { try ELFFile(bytes: bytes, path: "/damaged") }
    #expect(error.kind == .malformedELF)
    #expect(error.binary == "/damaged")
  }

  /// Cutting a valid file anywhere must throw, never trap or read out of bounds.
  @Test(arguments: ELFKind.allCases)
  func everyTruncationIsRejected(_ kind: ELFKind) throws {
    let bytes = Self.sample(kind).build()
    for length in 0..<bytes.count {
      #expect(throws: USDTError.self) { try ELFFile(bytes: Array(bytes.prefix(length)), path: "cut") }
    }
  }

  @Test func bytesOutsideTheFileAreRejected() throws {
    let elf = try ELFFile(bytes: Self.sample(ELFKind.allCases[0]).build(), path: "sample")
    for (offset, count) in [(UInt64.max, 1), (0, -1), (0, Int.max), (UInt64(1 << 40), 0), (1, 1 << 20)] {
      let error = try #require(throws: USDTError.self) { try elf.bytes(atFileOffset: offset, count: count) }
      #expect(error.kind == .malformedELF)
      #expect(error.binary == "sample")
    }
    #expect(try elf.bytes(atFileOffset: 0, count: 4) == [0x7f, 0x45, 0x4c, 0x46])
    let bogus = Section(name: "bogus", type: 1, flags: 0, address: 0, fileOffset: 0x7fff_ffff_ffff, size: 8)
    #expect(throws: USDTError.self) { try elf.contents(of: bogus) }
  }

  // MARK: Opening files

  @Test func openingAMissingFileGivesENOENT() throws {
    let path = "/nonexistent/\(UUID().uuidString)"
    let error = try #require(throws: USDTError.self) { try ELFFile(path: path) }
    #expect(error.kind == .systemCall)
    #expect(error.errno == .noSuchFileOrDirectory)
    #expect(error.binary == path)
  }

  @Test func openingADirectoryGivesEISDIR() throws {
    let path = FileManager.default.temporaryDirectory.path
    let error = try #require(throws: USDTError.self) { try ELFFile(path: path) }
    #expect(error.kind == .systemCall)
    #expect(error.errno == .isDirectory)
    #expect(error.binary == path)
  }

  @Test func openingANonELFFileIsMalformed() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("not-elf-\(UUID().uuidString)")
    try Data("just text\n".utf8).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let error = try #require(throws: USDTError.self) { try ELFFile(path: url.path) }
    #expect(error.kind == .malformedELF)
    #expect(error.binary == url.path)
  }

  @Test func openingAFIFOIsMalformed() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("fifo-\(UUID().uuidString)").path
    try #require(mkfifo(path, 0o600) == 0)
    defer { unlink(path) }
    // O_RDONLY on a FIFO blocks until a writer appears, so open one non-blocking first.
    let writer = open(path, O_RDWR | O_NONBLOCK)
    defer { close(writer) }
    let error = try #require(throws: USDTError.self) { try ELFFile(path: path) }
    #expect(error.kind == .malformedELF)
    #expect(error.binary == path)
  }

  @Test func readsAFileFromDiskLikeTheSameBytesInMemory() throws {
    let bytes = Self.sample(ELFKind.allCases[3]).build()
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("elf-\(UUID().uuidString)")
    try Data(bytes).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let fromDisk = try ELFFile(path: url.path)
    let inMemory = try ELFFile(bytes: bytes, path: url.path)
    #expect(fromDisk.sections == inMemory.sections)
    #expect(fromDisk.segments == inMemory.segments)
    let text = try #require(fromDisk.section(named: ".text"))
    #expect(try fromDisk.contents(of: text) == [0x90, 0x90, 0xc3])
    #expect(try fromDisk.bytes(atFileOffset: 0, count: bytes.count) == bytes)
    #expect(throws: USDTError.self) { try fromDisk.bytes(atFileOffset: 0, count: bytes.count + 1) }
  }
}
