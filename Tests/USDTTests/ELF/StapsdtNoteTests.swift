import Testing

@testable import USDT

@Suite("stapsdt notes")
struct StapsdtNoteTests {
  /// An image whose `.note.stapsdt` holds `notes` (already encoded) and whose `.stapsdt.base`
  /// sits at `baseSection` (none when 0).
  static func file(_ kind: ELFKind, notes: [[UInt8]], baseSection: UInt64 = 0, noteType: UInt32 = 7) throws -> ELFFile {
    var b = kind.builder()
    b.sections = [.init(name: ".note.stapsdt", type: noteType, contents: notes.flatMap { $0 })]
    if baseSection != 0 {
      b.sections.append(.init(name: ".stapsdt.base", type: 1, flags: 2, address: baseSection, contents: [0]))
    }
    return try ELFFile(bytes: b.build(), path: "/notes")
  }

  static func good(_ kind: ELFKind, _ name: String, pc: UInt64 = 0x1150, semaphore: UInt64 = 0, arguments: String = "")
    -> [UInt8]
  {
    NoteBuilder.stapsdt(
      pc: pc, base: 0x2004, semaphore: semaphore, provider: "test", name: name, arguments: arguments,
      is64Bit: kind.is64Bit, order: kind.byteOrder)
  }

  @Test(arguments: ELFKind.allCases)
  func decodesNotesInOrder(_ kind: ELFKind) throws {
    let elf = try Self.file(kind, notes: [
      Self.good(kind, "s", pc: 0x1150, semaphore: 0x402a, arguments: "-4@%edi -8@%rsi -1@%dl 2@%cx"),
      Self.good(kind, "noargs", pc: 0x1160),
      Self.good(kind, "colon", pc: 0x1170, arguments: ":whatever"),
      Self.good(kind, "s", pc: 0x1180, semaphore: 0x402c, arguments: "8@%rax"),
    ])
    let (notes, problems) = try elf.stapsdtNotes()
    #expect(problems.isEmpty)
    #expect(notes == [
      StapsdtNote(provider: "test", name: "s", pc: 0x1150, base: 0x2004, semaphore: 0x402a,
                  arguments: "-4@%edi -8@%rsi -1@%dl 2@%cx", index: 0),
      StapsdtNote(provider: "test", name: "noargs", pc: 0x1160, base: 0x2004, semaphore: 0, arguments: "", index: 1),
      StapsdtNote(provider: "test", name: "colon", pc: 0x1170, base: 0x2004, semaphore: 0, arguments: "", index: 2),
      StapsdtNote(provider: "test", name: "s", pc: 0x1180, base: 0x2004, semaphore: 0x402c, arguments: "8@%rax",
                  index: 3),
    ])
  }

  /// The worked bytes of format.md §2 (gcc -O2, x86-64), decoded exactly.
  @Test func decodesTheWorkedExample() throws {
    let hex = "080000003c0000000300000073746170736474005011000000000000042000000000000"
      + "02a40000000000000746573740073002d34402565646920"
      + "2d3840257273692" + "02d314025646c20324025637800"
    var bytes: [UInt8] = []
    var digits = Array(hex)
    while digits.count >= 2 {
      bytes.append(UInt8(String(digits[0..<2]), radix: 16) ?? 0)
      digits.removeFirst(2)
    }
    #expect(bytes.count == 0x0c + 8 + 60)
    let elf = try Self.file(ELFKind.allCases[0], notes: [bytes], baseSection: 0x2004)
    let (notes, problems) = try elf.stapsdtNotes()
    #expect(problems.isEmpty)
    #expect(notes == [
      StapsdtNote(provider: "test", name: "s", pc: 0x1150, base: 0x2004, semaphore: 0x402a,
                  arguments: "-4@%edi -8@%rsi -1@%dl 2@%cx", index: 0)
    ])
    #expect(notes.first?.adjustedPC(sectionBase: elf.stapsdtBaseAddress) == 0x1150)
  }

  @Test(arguments: ELFKind.allCases)
  func noNoteSectionMeansNoProbes(_ kind: ELFKind) throws {
    let elf = try ELFFile(bytes: kind.builder().build(), path: "/none")
    let (notes, problems) = try elf.stapsdtNotes()
    #expect(notes.isEmpty && problems.isEmpty)
  }

  @Test(arguments: ELFKind.allCases)
  func emptyNoteSectionMeansNoProbes(_ kind: ELFKind) throws {
    let (notes, problems) = try Self.file(kind, notes: []).stapsdtNotes()
    #expect(notes.isEmpty && problems.isEmpty)
  }

  @Test func noteSectionMustBeSHTNOTE() throws {
    let elf = try Self.file(ELFKind.allCases[0], notes: [Self.good(ELFKind.allCases[0], "a")], noteType: 1)
    let error = try #require(throws: USDTError.self) { try elf.stapsdtNotes() }
    #expect(error.kind == .malformedELF)
    #expect(error.binary == "/notes")
  }

  // MARK: Malformed notes

  /// A bad note placed between two good ones; the good ones must survive it.
  struct BadNote: Sendable, CustomStringConvertible {
    var description: String
    var make: @Sendable (ELFKind) -> [UInt8]
  }

  static func strings(_ parts: String...) -> [UInt8] {
    Array(parts.joined().utf8)
  }

  static func note(_ kind: ELFKind, strings: [UInt8], descriptorSize: UInt32? = nil) -> [UInt8] {
    NoteBuilder.note(
      descriptor: NoteBuilder.descriptor(strings: strings, is64Bit: kind.is64Bit, order: kind.byteOrder),
      descriptorSize: descriptorSize, order: kind.byteOrder)
  }

  static let badNotes: [BadNote] = [
    BadNote(description: "namesz 9") { kind in
      NoteBuilder.note(name: Array("stapsdtX\0".utf8), descriptor: good(kind, "x").dropFirst(20).map { $0 },
                       order: kind.byteOrder)
    },
    BadNote(description: "owner GNU") { kind in
      NoteBuilder.note(name: Array("GNU\0".utf8), type: 1, descriptor: [1, 2, 3, 4], order: kind.byteOrder)
    },
    BadNote(description: "owner stapsdX") { kind in
      NoteBuilder.note(name: Array("stapsdX\0".utf8), descriptor: note(kind, strings: strings("p\0", "n\0", "\0"))
        .dropFirst(20).map { $0 }, order: kind.byteOrder)
    },
    BadNote(description: "n_type 1") { kind in
      NoteBuilder.note(
        type: 1, descriptor: NoteBuilder.descriptor(strings: strings("p\0", "n\0", "\0"), is64Bit: kind.is64Bit,
                                                    order: kind.byteOrder), order: kind.byteOrder)
    },
    BadNote(description: "descsz too small") { kind in
      // Three words and two bytes: one short of three strings.
      note(kind, strings: strings("\0\0"))
    },
    BadNote(description: "provider unterminated") { kind in note(kind, strings: strings("provider")) },
    BadNote(description: "name missing") { kind in note(kind, strings: strings("provider\0")) },
    BadNote(description: "name empty") { kind in note(kind, strings: strings("p\0", "\0", "\0")) },
    BadNote(description: "name unterminated") { kind in note(kind, strings: strings("p\0", "name")) },
    BadNote(description: "arguments missing") { kind in note(kind, strings: strings("p\0", "n\0")) },
    BadNote(description: "arguments unterminated") { kind in note(kind, strings: strings("p\0", "n\0", "8@%rax")) },
    BadNote(description: "strings end before descsz") { kind in
      // The NULs are in the padding after the descriptor, not inside it.
      note(kind, strings: strings("p\0", "n\0", "ab\0\0"), descriptorSize: UInt32(kind.is64Bit ? 24 : 12) + 6)
    },
  ]

  @Test(arguments: badNotes, ELFKind.allCases)
  func aMalformedNoteDoesNotHideTheOthers(_ bad: BadNote, _ kind: ELFKind) throws {
    let elf = try Self.file(kind, notes: [Self.good(kind, "first"), bad.make(kind), Self.good(kind, "last")])
    let (notes, problems) = try elf.stapsdtNotes()
    #expect(notes.map(\.name) == ["first", "last"])
    #expect(notes.map(\.index) == [0, 2])
    #expect(problems.count == 1)
    let problem = try #require(problems.first)
    #expect(problem.kind == .malformedNote)
    #expect(problem.message.hasPrefix("note 1 "))
    #expect(problem.binary == "/notes")
  }

  /// A note whose sizes run past the section leaves no way to find the next one: the walk ends
  /// with one problem, and the notes before it are kept.
  @Test(arguments: ELFKind.allCases, [
    ("descsz past the end", UInt32(0x1000), UInt32(8)),
    ("namesz past the end", UInt32(16), UInt32(0x7fff_fff0)),
    ("descsz 0xffffffff", UInt32.max, UInt32(8)),
    ("namesz 0xffffffff", UInt32(16), UInt32.max),
  ])
  func aBrokenNoteHeaderEndsTheWalk(_ kind: ELFKind, _ c: (String, UInt32, UInt32)) throws {
    let (_, descriptorSize, nameSize) = c
    let broken = NoteBuilder.note(nameSize: nameSize, descriptor: [0, 0, 0, 0], descriptorSize: descriptorSize,
                                  order: kind.byteOrder)
    let elf = try Self.file(kind, notes: [Self.good(kind, "first"), broken, Self.good(kind, "unreachable")])
    let (notes, problems) = try elf.stapsdtNotes()
    #expect(notes.map(\.name) == ["first"])
    #expect(problems.map(\.kind) == [.malformedNote])
    #expect(problems.first?.message.hasPrefix("note 1 ") == true)
  }

  @Test(arguments: ELFKind.allCases, [1, 4, 11])
  func trailingBytesTooShortForAHeaderAreAProblem(_ kind: ELFKind, _ count: Int) throws {
    let elf = try Self.file(kind, notes: [Self.good(kind, "first"), [UInt8](repeating: 0, count: count)])
    let (notes, problems) = try elf.stapsdtNotes()
    #expect(notes.map(\.name) == ["first"])
    #expect(problems.map(\.kind) == [.malformedNote])
  }

  @Test func lastNoteMayLackItsPadding() throws {
    let kind = ELFKind.allCases[1]
    var bytes = Self.good(kind, "abc", arguments: "")  // descriptor 24 + 5 + 4 + 1 = 34 → 2 bytes padding
    bytes.removeLast(2)
    let (notes, problems) = try Self.file(kind, notes: [bytes]).stapsdtNotes()
    #expect(problems.isEmpty)
    #expect(notes.map(\.name) == ["abc"])
  }

  @Test func emptyProviderIsAccepted() throws {
    // libbpf accepts an empty provider (only the name must be non-empty), and so do we.
    let kind = ELFKind.allCases[2]
    let (notes, problems) = try Self.file(kind, notes: [Self.note(kind, strings: Self.strings("\0", "n\0", "\0"))])
      .stapsdtNotes()
    #expect(problems.isEmpty)
    #expect(notes.first?.provider == "")
    #expect(notes.first?.name == "n")
  }

  // MARK: The .stapsdt.base prelink rule

  @Test(arguments: [
    // pc, note base, section base, expected pc
    (UInt64(0x1150), UInt64(0x2004), UInt64(0x2004), UInt64(0x1150)),  // not prelinked: delta 0
    (0x1150, 0x2004, 0x3004, 0x2150),  // moved up by 0x1000
    (0x1150, 0x3004, 0x2004, 0x0150),  // moved down
    (0x1150, 0x2004, 0, 0x1150),  // no .stapsdt.base section
    (0x1150, 0, 0x3004, 0x1150),  // emitter wrote base = 0 (libbpf < 1.6 got this wrong)
    (0x10, 0x1000, 0x800, 0xffff_ffff_ffff_f810),  // wraps like the C arithmetic
  ])
  func adjustsPCByTheSectionDelta(_ c: (UInt64, UInt64, UInt64, UInt64)) {
    let note = StapsdtNote(provider: "p", name: "n", pc: c.0, base: c.1, semaphore: 0, arguments: "", index: 0)
    #expect(note.adjustedPC(sectionBase: c.2) == c.3)
    #expect(note.adjustedSemaphore(sectionBase: c.2) == 0)
  }

  @Test func adjustsTheSemaphoreLikeThePC() {
    let note = StapsdtNote(provider: "p", name: "n", pc: 0x1150, base: 0x2004, semaphore: 0x402a, arguments: "", index: 0)
    #expect(note.adjustedSemaphore(sectionBase: 0x3004) == 0x502a)
    #expect(note.adjustedSemaphore(sectionBase: 0x2004) == 0x402a)
    #expect(note.adjustedSemaphore(sectionBase: 0) == 0x402a)
  }

  @Test(arguments: ELFKind.allCases)
  func prelinkedFileEndToEnd(_ kind: ELFKind) throws {
    var b = kind.builder()
    b.segments = [Segment(virtualAddress: 0x2000, fileOffset: 0x100, fileSize: 0x200, memorySize: 0x200, flags: 5)]
    b.sections = [
      .init(name: ".note.stapsdt", type: 7, contents: Self.good(kind, "p", pc: 0x1150)),
      .init(name: ".stapsdt.base", type: 1, flags: 2, address: 0x3004, contents: [0]),
    ]
    let elf = try ELFFile(bytes: b.build(), path: "/prelinked")
    let note = try #require(try elf.stapsdtNotes().notes.first)
    #expect(elf.stapsdtBaseAddress == 0x3004)
    let pc = note.adjustedPC(sectionBase: elf.stapsdtBaseAddress)
    #expect(pc == 0x2150)
    #expect(try elf.fileOffset(ofCode: pc) == 0x250)
  }
}
