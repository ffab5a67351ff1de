/// One probe site, decoded from a `.note.stapsdt` note (type 3, owner `"stapsdt"`).
///
/// There is one note per site: a probe macro expanded or inlined twice gives two notes with the
/// same `provider:name`, each with its own pc, semaphore and argument string, so nothing here
/// is unique per probe name. The addresses are link-time virtual addresses exactly as written;
/// ``adjustedPC(sectionBase:)`` applies the prelink rule and ``ELFFile/fileOffset(ofCode:)``
/// turns the result into the file offset a uprobe needs.
public struct StapsdtNote: Sendable, Hashable {
  /// The provider, the first descriptor string (may be empty; libbpf accepts that).
  public let provider: String
  /// The probe name, the second descriptor string (never empty).
  public let name: String
  /// The link-time address of the probe's `nop`, as written in the note.
  public let pc: UInt64
  /// The link-time address of `_.stapsdt.base` as written in the note, or 0.
  public let base: UInt64
  /// The link-time address of the 2-byte semaphore, or 0 when the probe has none.
  public let semaphore: UInt64
  /// The raw argument string, e.g. `-4@%edi 8@%rsi`; `""` when the probe has no arguments.
  public let arguments: String
  /// The position of the note in the section, 0-based, counting malformed notes too, so it
  /// matches the order `readelf -n` prints.
  public let index: Int

  /// The note's pc after the `.stapsdt.base` prelink rule (`format.md` §3).
  ///
  /// prelink moves a library by rewriting its section headers but not its notes, which are not
  /// allocated. `sectionBase - base` is therefore how far the file moved after linking. The
  /// delta applies only when both are non-zero (libbpf ≥ 1.6): a missing section or an emitter
  /// that writes `base = 0` must not produce a huge bogus pc. The arithmetic wraps, as the C
  /// does, because the delta may be "negative".
  ///
  /// - Parameter sectionBase: ``ELFFile/stapsdtBaseAddress`` of the file the note came from.
  public func adjustedPC(sectionBase: UInt64) -> UInt64 {
    adjusted(pc, sectionBase: sectionBase)
  }

  /// The semaphore address after the same prelink rule as ``adjustedPC(sectionBase:)``; 0 stays 0.
  ///
  /// libbpf uses the semaphore unadjusted; we apply the delta because the semaphore moved with
  /// the rest of the file. For any file not processed by prelink the delta is 0 and both agree.
  public func adjustedSemaphore(sectionBase: UInt64) -> UInt64 {
    semaphore == 0 ? 0 : adjusted(semaphore, sectionBase: sectionBase)
  }

  private func adjusted(_ address: UInt64, sectionBase: UInt64) -> UInt64 {
    guard sectionBase != 0, base != 0 else { return address }
    return address &+ (sectionBase &- base)
  }
}
