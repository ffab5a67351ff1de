import Foundation
import Testing

@testable import USDT

/// Damages real fixtures at random (with a fixed seed, so runs repeat) and runs the whole reader
/// over each result. Any outcome is fine except a trap: the reader must throw or report problems.
@Suite("ELF reader on randomly damaged files")
struct ELFMutationTests {
  /// SplitMix64: tiny, seedable, and good enough to pick bytes.
  struct Random {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9e37_79b9_7f4a_7c15
      var z = state
      z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
      z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
      return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
  }

  @Test(arguments: ["x86_64-lld.so", "s390x-lld.so", "ppc-lld.so", "arm-lld.so"])
  func neverTraps(_ file: String) throws {
    let original = Array(try Data(contentsOf: try ELFFixture.url(file)))
    var random = Random(state: 0x5eed)
    var parsed = 0
    for _ in 0..<1500 {
      var bytes = original
      for _ in 0..<(1 + random.below(4)) {
        let value: UInt8 = [0x00, 0xff, 0x7f, 0x80, UInt8(truncatingIfNeeded: random.next())][random.below(5)]
        bytes[random.below(bytes.count)] = value
      }
      guard let elf = try? ELFFile(bytes: bytes, path: file) else { continue }
      parsed += 1
      for section in elf.sections { _ = try? elf.contents(of: section) }
      guard let (notes, _) = try? elf.stapsdtNotes() else { continue }
      for note in notes {
        _ = try? elf.fileOffset(ofCode: note.adjustedPC(sectionBase: elf.stapsdtBaseAddress))
        _ = try? elf.fileOffset(ofData: note.adjustedSemaphore(sectionBase: elf.stapsdtBaseAddress))
      }
    }
    // Most single-byte damage leaves the headers readable, so the deeper code was exercised too.
    #expect(parsed > 100)
  }

  /// Damage aimed at `.note.stapsdt` itself, where every byte matters.
  @Test(arguments: ["x86_64-gcc-pie", "aarch64-lld.so", "ppc-lld.so"])
  func damagedNotesNeverTrap(_ file: String) throws {
    let original = Array(try Data(contentsOf: try ELFFixture.url(file)))
    let clean = try ELFFile(bytes: original, path: file)
    let section = try #require(clean.section(named: ".note.stapsdt"))
    var random = Random(state: 0xfeed)
    var withProblems = 0
    for _ in 0..<1500 {
      var bytes = original
      let position = Int(section.fileOffset) + random.below(Int(section.size))
      bytes[position] = UInt8(truncatingIfNeeded: random.next())
      let (_, problems) = try ELFFile(bytes: bytes, path: file).stapsdtNotes()
      if !problems.isEmpty { withProblems += 1 }
      #expect(problems.allSatisfy { $0.kind == .malformedNote })
    }
    #expect(withProblems > 0)
  }
}
