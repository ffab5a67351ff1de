import Foundation
import Testing

@testable import USDT

/// Real binaries built with `<sys/sdt.h>` by Fixtures/elf/make-fixtures.sh, checked against what
/// binutils' `readelf` recorded about them.
@Suite("ELF fixtures against readelf")
struct ELFFixtureTests {
  struct Case: Sendable, CustomStringConvertible {
    var file: String
    var architecture: Architecture
    /// The bytes of the probe instruction sdt.h emits (`_SDT_NOP`), in the file's byte order.
    var nop: [UInt8]
    var description: String { file }
  }

  /// Linked files: every probe can be translated to a file offset.
  static let linked: [Case] = [
    Case(file: "x86_64-gcc-pie", architecture: .x86_64, nop: [0x90]),
    Case(file: "x86_64-gcc-exec", architecture: .x86_64, nop: [0x90]),
    Case(file: "x86_64-lld.so", architecture: .x86_64, nop: [0x90]),
    Case(file: "aarch64-lld.so", architecture: .aarch64, nop: [0x1f, 0x20, 0x03, 0xd5]),  // d503201f
    Case(file: "s390x-lld.so", architecture: .s390x, nop: [0x47, 0x00, 0x00, 0x00]),  // nop 0 (bc 0,0)
    Case(file: "arm-lld.so", architecture: .arm, nop: [0x00, 0xf0, 0x20, 0xe3]),  // e320f000
    Case(file: "ppc-lld.so", architecture: .ppc, nop: [0x60, 0x00, 0x00, 0x00]),  // ori 0,0,0
  ]
  static let relocatable = Case(file: "x86_64-rel", architecture: .x86_64, nop: [0x90])

  /// The probes in src/*.c, in link order; a fixture that yields none fails instead of passing.
  static let allProbes = ["sema", "noargs", "two", "twice", "twice"]

  @Test(arguments: linked + [relocatable])
  func headerMatchesReadelf(_ c: Case) throws {
    let (elf, readelf) = try ELFFixture.load(c.file)
    #expect(elf.is64Bit == readelf.is64Bit)
    #expect(elf.byteOrder == readelf.byteOrder)
    #expect(elf.type == readelf.type)
    #expect(elf.architecture == c.architecture)
  }

  @Test(arguments: linked + [relocatable])
  func segmentsMatchReadelf(_ c: Case) throws {
    let (elf, readelf) = try ELFFixture.load(c.file)
    #expect(elf.segments == readelf.loads.sorted { $0.virtualAddress < $1.virtualAddress })
    #expect(elf.segments.isEmpty == (c.file == Self.relocatable.file))
  }

  @Test(arguments: linked + [relocatable])
  func sectionsMatchReadelf(_ c: Case) throws {
    let (elf, readelf) = try ELFFixture.load(c.file)
    #expect(elf.sections.count == readelf.sections.count + 1)
    let ours = elf.sections.enumerated().dropFirst().map { index, s in
      Readelf.SectionLine(index: index, name: s.name, address: s.address, fileOffset: s.fileOffset, size: s.size)
    }
    #expect(ours == readelf.sections)
    #expect(elf.section(named: ".note.stapsdt")?.type == 7)
  }

  @Test(arguments: linked + [relocatable])
  func notesMatchReadelf(_ c: Case) throws {
    let (elf, readelf) = try ELFFixture.load(c.file)
    let (notes, problems) = try elf.stapsdtNotes()
    #expect(problems.isEmpty)
    if c.file == Self.relocatable.file {
      // readelf applies .rela.note.stapsdt to a relocatable object's notes; the note bytes
      // themselves hold pc 0 (it is filled in at link time), and that is what we report.
      #expect(notes.map(\.pc).allSatisfy { $0 == 0 })
      #expect(notes.map { [$0.provider, $0.name, $0.arguments] } == readelf.notes.map { [$0.provider, $0.name, $0.arguments] })
    } else {
      #expect(notes == readelf.notes)
    }
    let expected = c.file == Self.relocatable.file ? Array(Self.allProbes.dropFirst()) : Self.allProbes
    #expect(notes.map(\.name) == expected)
    #expect(notes.allSatisfy { $0.provider == "test" })
    // Arguments are present where the source passes some, and only there.
    #expect(notes.map { $0.arguments.split(separator: " ").count } == expected.map { ["sema": 3, "noargs": 0, "two": 2, "twice": 1][$0] ?? -1 })
  }

  /// The pc of every note, pushed through PT_LOAD, lands on the nop sdt.h emitted.
  @Test(arguments: linked)
  func everyProbeSiteIsTheNop(_ c: Case) throws {
    let (elf, readelf) = try ELFFixture.load(c.file)
    let notes = try elf.stapsdtNotes().notes
    try #require(notes.count == Self.allProbes.count)
    // Nothing here was prelinked: the note base equals the section address, so the delta is 0.
    #expect(elf.stapsdtBaseAddress != 0)
    for note in notes {
      #expect(note.base == elf.stapsdtBaseAddress)
      let pc = note.adjustedPC(sectionBase: elf.stapsdtBaseAddress)
      #expect(pc == note.pc)
      let offset = try elf.fileOffset(ofCode: pc)
      // The same translation done by hand over readelf's LOAD lines.
      let load = try #require(readelf.loads.first { pc >= $0.virtualAddress && pc < $0.virtualAddress + $0.memorySize })
      #expect(offset == pc - load.virtualAddress + load.fileOffset)
      #expect(try elf.bytes(atFileOffset: offset, count: c.nop.count) == c.nop, "\(note.name) at \(ELFFile.hex(offset))")
    }
  }

  /// The one semaphore (test:sema) translates into the `.probes` section, where it is 0 on disk.
  @Test(arguments: linked)
  func semaphoreLandsInProbesSection(_ c: Case) throws {
    let (elf, _) = try ELFFixture.load(c.file)
    let notes = try elf.stapsdtNotes().notes
    let withSemaphore = notes.filter { $0.semaphore != 0 }
    #expect(withSemaphore.map(\.name) == ["sema"])
    let note = try #require(withSemaphore.first)
    let probes = try #require(elf.section(named: ".probes"))
    #expect(note.adjustedSemaphore(sectionBase: elf.stapsdtBaseAddress) == probes.address)
    let offset = try elf.fileOffset(ofData: note.semaphore)
    #expect(offset == probes.fileOffset)
    #expect(try elf.bytes(atFileOffset: offset, count: 2) == [0, 0])
    // A semaphore is data: asking for it as code must fail.
    #expect(throws: USDTError.self) { try elf.fileOffset(ofCode: note.semaphore) }
  }

  /// Values read off `readelf -lnW` by hand when the fixtures were made (update them after
  /// running make-fixtures.sh). The lld layouts are the ones where vaddr != file offset.
  @Test(arguments: [
    // file, pc of test:sema, its file offset, its semaphore, the semaphore's file offset
    ("x86_64-gcc-pie", UInt64(0x1160), UInt64(0x1160), UInt64(0x4010), UInt64(0x3010)),
    ("x86_64-lld.so", 0x1614, 0x614, 0x3840, 0x840),
    ("s390x-lld.so", 0x1318, 0x318, 0x3428, 0x428),
    ("arm-lld.so", 0x1025c, 0x25c, 0x30308, 0x308),
  ])
  func spotValues(_ c: (String, UInt64, UInt64, UInt64, UInt64)) throws {
    let (elf, _) = try ELFFixture.load(c.0)
    let note = try #require(try elf.stapsdtNotes().notes.first)
    #expect(note.name == "sema")
    #expect(note.pc == c.1)
    #expect(try elf.fileOffset(ofCode: note.pc) == c.2)
    #expect(note.semaphore == c.3)
    #expect(try elf.fileOffset(ofData: note.semaphore) == c.4)
  }

  @Test func relocatableObjectsHaveNotesButNoAttachPoints() throws {
    let (elf, _) = try ELFFixture.load(Self.relocatable.file)
    #expect(elf.type == 1)
    #expect(!elf.isSharedObjectOrPIE)
    let note = try #require(try elf.stapsdtNotes().notes.first)
    let error = try #require(throws: USDTError.self) { try elf.fileOffset(ofCode: note.pc) }
    #expect(error.kind == .addressNotMapped)
    #expect(error.binary == elf.path)
  }

  @Test(arguments: linked + [relocatable])
  func diskAndMemoryReadersAgree(_ c: Case) throws {
    let url = try ELFFixture.url(c.file)
    let fromDisk = try ELFFile(path: url.path)
    let inMemory = try ELFFile(bytes: Array(try Data(contentsOf: url)), path: url.path)
    #expect(fromDisk.sections == inMemory.sections)
    #expect(fromDisk.segments == inMemory.segments)
    #expect(try fromDisk.stapsdtNotes().notes == inMemory.stapsdtNotes().notes)
  }

  @Test(arguments: linked + [relocatable])
  func fixturesStaySmall(_ c: Case) throws {
    let size = try FileManager.default.attributesOfItem(atPath: try ELFFixture.url(c.file).path)[.size] as? Int
    #expect((size ?? .max) < 40_000)
  }
}
