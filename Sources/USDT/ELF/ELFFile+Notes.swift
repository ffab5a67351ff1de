/// Decoding of the `.note.stapsdt` section (`format.md` §1–2).
///
/// Each note is an `Elf_Nhdr` (`n_namesz`, `n_descsz`, `n_type`, 4 bytes each) followed by the
/// name and the descriptor, each padded to 4 bytes. The descriptor holds three class-sized words
/// (pc, base, semaphore) in the file's byte order, then three NUL-terminated strings: provider,
/// name, arguments.
///
/// libbpf rejects the whole file when any note is malformed, even for another provider. We
/// report each bad note separately instead, so one broken probe does not hide the others.
extension ELFFile {
  /// The notes of `.note.stapsdt`, in note order. A malformed note does not hide the good ones:
  /// it lands in `problems`.
  ///
  /// A note whose header is broken (its name or descriptor runs past the section) ends the walk,
  /// since the next note's position is unknown; every other problem skips just that note.
  ///
  /// - Returns: the good notes and one `.malformedNote` error per bad note, naming its index.
  ///   A file without `.note.stapsdt` has neither (it simply has no probes).
  /// - Throws: `.malformedELF` when `.note.stapsdt` is not `SHT_NOTE` (libbpf fails the same
  ///   way), `.systemCall` when reading it fails.
  public func stapsdtNotes() throws(USDTError) -> (notes: [StapsdtNote], problems: [USDTError]) {
    guard let section = section(named: ".note.stapsdt") else { return ([], []) }
    guard section.type == Section.noteType else {
      throw USDTError(
        .malformedELF, "section .note.stapsdt has type \(section.type), not SHT_NOTE (7)", binary: path)
    }
    let reader = reader(try contents(of: section), errorKind: .malformedNote, what: "section .note.stapsdt")
    var notes: [StapsdtNote] = []
    var problems: [USDTError] = []
    var offset = 0
    var index = 0
    while offset < reader.bytes.count {
      let record: NoteRecord
      do throws(USDTError) {
        record = try NoteRecord(reader, at: offset)
      } catch {
        problems.append(noteProblem(index, offset, error.message))
        break
      }
      do throws(USDTError) {
        notes.append(try record.decode(reader, index: index))
      } catch {
        problems.append(noteProblem(index, offset, error.message, probe: error.probe, input: error.input))
      }
      offset = record.next
      index += 1
    }
    return (notes, problems)
  }

  private func noteProblem(
    _ index: Int, _ offset: Int, _ message: String, probe: String? = nil, input: String? = nil
  ) -> USDTError {
    USDTError(
      .malformedNote, "note \(index) (at offset \(Self.hex(UInt64(offset))) of .note.stapsdt): \(message)",
      binary: path, probe: probe, input: input)
  }
}

/// Where one note's parts lie in the section, after checking that they fit.
private struct NoteRecord {
  static let headerSize = 12
  static let stapsdtType: UInt32 = 3  // _SDT_NOTE_TYPE
  static let stapsdtName: [UInt8] = Array("stapsdt".utf8) + [0]

  var nameSize: Int
  var type: UInt32
  var nameStart: Int
  var descriptorStart: Int
  var descriptorEnd: Int
  /// The start of the next note: the descriptor end rounded up to 4.
  var next: Int

  /// Reads the `Elf_Nhdr` at `offset` and locates the name and descriptor.
  ///
  /// The sizes are 32-bit, so the sums are done in 64 bits, where they cannot overflow, and
  /// converted back only once they are known to lie inside the section.
  ///
  /// - Throws: `.malformedNote` when the header, the name or the descriptor runs past the section.
  init(_ reader: ByteReader, at offset: Int) throws(USDTError) {
    let count = reader.bytes.count
    guard count - offset >= Self.headerSize else {
      throw USDTError(.malformedNote, "only \(count - offset) bytes left, too few for a note header (12)")
    }
    let nameSize = UInt64(try reader.u32(at: offset))
    let descriptorSize = UInt64(try reader.u32(at: offset + 4))
    type = try reader.u32(at: offset + 8)
    let nameStart = UInt64(offset + Self.headerSize)
    let descriptorStart = nameStart + Self.alignedTo4(nameSize)
    let descriptorEnd = descriptorStart + descriptorSize
    guard descriptorEnd <= UInt64(count) else {
      throw USDTError(
        .malformedNote,
        "namesz \(nameSize) and descsz \(descriptorSize) run past the end of the section (\(count) bytes)")
    }
    self.nameSize = Int(nameSize)  // all of these are <= count now
    self.nameStart = Int(nameStart)
    self.descriptorStart = Int(descriptorStart)
    self.descriptorEnd = Int(descriptorEnd)
    // The last note may lack its trailing padding; the walk then simply ends.
    next = Int(clamping: Self.alignedTo4(descriptorEnd))
  }

  /// Validates the note as libbpf's `parse_usdt_note` does and decodes it.
  ///
  /// - Throws: `.malformedNote` for a wrong name or type, a descriptor too short for three words
  ///   and three strings, an unterminated string or an empty probe name.
  func decode(_ reader: ByteReader, index: Int) throws(USDTError) -> StapsdtNote {
    guard nameSize == Self.stapsdtName.count else {
      throw USDTError(.malformedNote, "namesz is \(nameSize), expected 8 for \"stapsdt\"")
    }
    let name = try reader.slice(at: nameStart, count: nameSize)
    guard name.elementsEqual(Self.stapsdtName) else {
      throw USDTError(
        .malformedNote, "the note owner is not \"stapsdt\"",
        input: String(decoding: name.prefix { $0 != 0 }, as: UTF8.self))
    }
    guard type == Self.stapsdtType else {
      throw USDTError(.malformedNote, "n_type is \(type), expected 3 (NT_STAPSDT)")
    }
    let w = reader.wordSize
    let minimumSize = 3 * w + 3  // three words and three NUL bytes
    guard descriptorEnd - descriptorStart >= minimumSize else {
      throw USDTError(
        .malformedNote, "descsz \(descriptorEnd - descriptorStart) is less than \(minimumSize) (3 words and 3 strings)")
    }
    let pc = try reader.word(at: descriptorStart)
    let base = try reader.word(at: descriptorStart + w)
    let semaphore = try reader.word(at: descriptorStart + 2 * w)
    guard let provider = reader.cString(at: descriptorStart + 3 * w, limit: descriptorEnd) else {
      throw USDTError(.malformedNote, "the provider string is not NUL-terminated")
    }
    guard let probeName = reader.cString(at: provider.next, limit: descriptorEnd) else {
      throw USDTError(.malformedNote, "the probe name is missing or not NUL-terminated")
    }
    guard !probeName.text.isEmpty else {
      throw USDTError(.malformedNote, "the probe name is empty")
    }
    let probe = "\(provider.text):\(probeName.text)"
    guard let arguments = reader.cString(at: probeName.next, limit: descriptorEnd) else {
      throw USDTError(.malformedNote, "the argument string is missing or not NUL-terminated", probe: probe)
    }
    return StapsdtNote(
      provider: provider.text, name: probeName.text, pc: pc, base: base, semaphore: semaphore,
      // libbpf reads an argument string starting with ':' as "no arguments".
      arguments: arguments.text.hasPrefix(":") ? "" : arguments.text, index: index)
  }

  private static func alignedTo4(_ value: UInt64) -> UInt64 {
    (value + 3) & ~3
  }
}
