import Foundation

@testable import USDT

/// What binutils' `readelf -hlSnW` said about a fixture, parsed from the `NAME.readelf` file that
/// make-fixtures.sh records next to it. It is the independent reference the reader is checked
/// against: another implementation, not our own numbers.
struct Readelf {
  struct SectionLine: Equatable {
    var index: Int
    var name: String
    var address: UInt64
    var fileOffset: UInt64
    var size: UInt64
  }

  var is64Bit = false
  var byteOrder = ByteOrder.little
  var type: UInt16 = 0
  /// LOAD lines of "Program Headers", in header order.
  var loads: [Segment] = []
  /// "Section Headers" lines 1...n (readelf prints no name for section 0).
  var sections: [SectionLine] = []
  /// Notes printed under "Displaying notes found in: .note.stapsdt", in order.
  var notes: [StapsdtNote] = []

  struct ParseError: Error, CustomStringConvertible {
    var description: String
  }

  init(text: String) throws {
    var inStapsdtNotes = false
    var provider: String?
    var name: String?
    var words: (UInt64, UInt64, UInt64)?
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      let tokens = line.split(whereSeparator: \.isWhitespace).map(String.init)
      if line.contains("Class:") {
        is64Bit = tokens.last == "ELF64"
      } else if line.contains("Data:") && line.contains("endian") {
        byteOrder = line.contains("big endian") ? .big : .little
      } else if tokens.first == "Type:", tokens.count > 1 {
        type = ["REL": 1, "EXEC": 2, "DYN": 3][tokens[1]] ?? 0
      } else if tokens.first == "LOAD", tokens.count >= 8 {
        let flags = tokens[6..<(tokens.count - 1)].joined()
        loads.append(
          Segment(
            virtualAddress: try Self.hex(tokens[2]), fileOffset: try Self.hex(tokens[1]),
            fileSize: try Self.hex(tokens[4]), memorySize: try Self.hex(tokens[5]),
            flags: (flags.contains("R") ? 4 : 0) | (flags.contains("W") ? 2 : 0) | (flags.contains("E") ? 1 : 0)))
      } else if let match = line.firstMatch(of: /^\s*\[\s*(\d+)\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)/),
        let index = Int(match.1), index > 0
      {
        sections.append(
          SectionLine(
            index: index, name: String(match.2), address: try Self.hex(String(match.3)),
            fileOffset: try Self.hex(String(match.4)), size: try Self.hex(String(match.5))))
      } else if line.hasPrefix("Displaying notes found in:") {
        inStapsdtNotes = line.hasSuffix(" .note.stapsdt")
      } else if inStapsdtNotes, let range = line.range(of: "Provider: ") {
        provider = String(line[range.upperBound...])
      } else if inStapsdtNotes, let range = line.range(of: "Name: ") {
        name = String(line[range.upperBound...])
      } else if inStapsdtNotes, let match = line.firstMatch(of: /Location: (0x[0-9a-f]+), Base: (0x[0-9a-f]+), Semaphore: (0x[0-9a-f]+)/) {
        words = (try Self.hex(String(match.1)), try Self.hex(String(match.2)), try Self.hex(String(match.3)))
      } else if inStapsdtNotes, let range = line.range(of: "Arguments:") {
        guard let provider, let name, let words else { throw ParseError(description: "incomplete note before: \(line)") }
        var arguments = line[range.upperBound...]
        if arguments.hasPrefix(" ") { arguments = arguments.dropFirst() }
        notes.append(
          StapsdtNote(provider: provider, name: name, pc: words.0, base: words.1, semaphore: words.2,
                      arguments: String(arguments), index: notes.count))
      }
    }
    guard type != 0 else { throw ParseError(description: "no ELF header in the readelf output") }
  }

  /// Parses `0x1f`, or `001f` as readelf prints section columns.
  static func hex(_ text: String) throws -> UInt64 {
    let digits = text.hasPrefix("0x") ? String(text.dropFirst(2)) : text
    guard let value = UInt64(digits, radix: 16) else { throw ParseError(description: "not hex: \(text)") }
    return value
  }
}

/// The fixtures of Fixtures/elf, built by make-fixtures.sh.
enum ELFFixture {
  static func url(_ name: String) throws -> URL {
    guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/elf") else {
      throw Readelf.ParseError(description: "fixture Fixtures/elf/\(name) is missing from the test bundle")
    }
    return url
  }

  static func load(_ name: String) throws -> (elf: ELFFile, readelf: Readelf) {
    let elf = try ELFFile(path: try url(name).path)
    let readelf = try Readelf(text: String(contentsOf: try url(name + ".readelf"), encoding: .utf8))
    return (elf, readelf)
  }
}
