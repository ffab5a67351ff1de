import Testing

@testable import USDT

@Suite("Address to file offset through PT_LOAD")
struct ELFFileAddressTests {
  /// The clang + lld `-z noseparate-code` layout from format.md §5, where vaddr != file offset.
  static func lldLayout(_ kind: ELFKind) throws -> ELFFile {
    var b = kind.builder()
    b.segments = [
      Segment(virtualAddress: 0x0, fileOffset: 0x0, fileSize: 0x6d8, memorySize: 0x6d8, flags: 4),
      Segment(virtualAddress: 0x1700, fileOffset: 0x700, fileSize: 0x1a0, memorySize: 0x1a0, flags: 5),
      Segment(virtualAddress: 0x28b0, fileOffset: 0x8b0, fileSize: 0x1e0, memorySize: 0x1e0, flags: 6),
      Segment(virtualAddress: 0x3aa0, fileOffset: 0xaa0, fileSize: 0x28, memorySize: 0x80, flags: 6),
    ]
    return try ELFFile(bytes: b.build(), path: "lld.so")
  }

  @Test(arguments: ELFKind.allCases, [
    (UInt64(0x17d9), UInt64(0x7d9)),  // format.md §5
    (0x1700, 0x700),  // first byte of the segment
    (0x189f, 0x89f),  // last byte
  ])
  func translatesCode(_ kind: ELFKind, _ pair: (UInt64, UInt64)) throws {
    #expect(try Self.lldLayout(kind).fileOffset(ofCode: pair.0) == pair.1)
  }

  @Test(arguments: ELFKind.allCases, [
    (UInt64(0x3ac0), UInt64(0xac0)),  // format.md §5
    (0x28b0, 0x8b0),
    (0x3b1f, 0xb1f),  // in p_memsz but past p_filesz: libbpf accepts it, so do we
    (0x10, 0x10),  // read-only data is fine too; only PF_X is refused
  ])
  func translatesData(_ kind: ELFKind, _ pair: (UInt64, UInt64)) throws {
    #expect(try Self.lldLayout(kind).fileOffset(ofData: pair.0) == pair.1)
  }

  @Test(arguments: ELFKind.allCases, [UInt64(0x18a0), 0x6d8, 0x3b20, 0x10_0000, 0x3ac0, 0x10])
  func refusesCodeOutsideExecutableSegments(_ kind: ELFKind, _ address: UInt64) throws {
    let elf = try Self.lldLayout(kind)
    let error = try #require(throws: USDTError.self) { try elf.fileOffset(ofCode: address) }
    #expect(error.kind == .addressNotMapped)
    #expect(error.binary == "lld.so")
  }

  @Test(arguments: ELFKind.allCases, [UInt64(0x17d9), 0x1700, 0x3b20, 0xffff_ffff])
  func refusesDataOutsideNonExecutableSegments(_ kind: ELFKind, _ address: UInt64) throws {
    let elf = try Self.lldLayout(kind)
    let error = try #require(throws: USDTError.self) { try elf.fileOffset(ofData: address) }
    #expect(error.kind == .addressNotMapped)
  }

  @Test func noLoadSegmentsMeansNotMapped() throws {
    let elf = try ELFFile(bytes: ELFKind.allCases[0].builder().build(), path: "rel.o")
    #expect(throws: USDTError.self) { try elf.fileOffset(ofCode: 0x10) }
    let error = try #require(throws: USDTError.self) { try elf.fileOffset(ofData: 0x10) }
    #expect(error.kind == .addressNotMapped)
  }

  /// A segment at the top of the address space, or one whose p_memsz is huge, must not overflow.
  @Test func extremeSegmentsDoNotTrap() throws {
    var top = ELFKind.allCases[0].builder()
    top.segments = [
      Segment(virtualAddress: 0xffff_ffff_ffff_f000, fileOffset: 0x100, fileSize: 0, memorySize: 0x2000, flags: 5)
    ]
    #expect(try ELFFile(bytes: top.build(), path: "top").fileOffset(ofCode: .max) == 0x100 + 0xfff)

    var huge = ELFKind.allCases[0].builder()
    huge.segments = [Segment(virtualAddress: 0, fileOffset: 0x40, fileSize: 0, memorySize: .max, flags: 6)]
    let elf = try ELFFile(bytes: huge.build(), path: "huge")
    #expect(try elf.fileOffset(ofData: 0x1000) == 0x1040)
    // 0x40 + (2^64 - 2) does not fit in a file offset.
    let error = try #require(throws: USDTError.self) { try elf.fileOffset(ofData: .max - 1) }
    #expect(error.kind == .malformedELF)
  }

  @Test(arguments: ELFKind.allCases)
  func stapsdtBaseAddressIsTheSectionAddress(_ kind: ELFKind) throws {
    var b = kind.builder()
    #expect(try ELFFile(bytes: b.build(), path: "x").stapsdtBaseAddress == 0)
    b.sections = [.init(name: ".stapsdt.base", type: 1, flags: 2, address: 0x2004, contents: [0])]
    #expect(try ELFFile(bytes: b.build(), path: "x").stapsdtBaseAddress == 0x2004)
  }
}
