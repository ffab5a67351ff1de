/// A loadable segment (`PT_LOAD` program header): a range of the file mapped at a virtual address.
///
/// The kernel attaches uprobes at *file offsets*, while notes record *virtual addresses*; the
/// `PT_LOAD` segments are the table that translates one into the other (`format.md` §5).
public struct Segment: Sendable, Hashable {
  /// `p_vaddr`: the link-time address of the segment's first byte.
  public let virtualAddress: UInt64
  /// `p_offset`: where the segment's bytes start in the file.
  public let fileOffset: UInt64
  /// `p_filesz`: how many bytes come from the file.
  public let fileSize: UInt64
  /// `p_memsz`: the size in memory; the part past ``fileSize`` is zero-filled (`.bss`).
  public let memorySize: UInt64
  /// `p_flags`: `PF_X` (1), `PF_W` (2), `PF_R` (4).
  public let flags: UInt32

  /// `PF_X`: probes can only sit in executable segments.
  public var isExecutable: Bool { flags & Segment.executableFlag != 0 }
  /// `PF_W`: semaphores sit in writable segments.
  public var isWritable: Bool { flags & Segment.writableFlag != 0 }

  static let executableFlag: UInt32 = 1
  static let writableFlag: UInt32 = 2

  /// Whether `address` lies in `[p_vaddr, p_vaddr + p_memsz)`, as libbpf tests it.
  ///
  /// Written as a subtraction after a comparison so that a segment reaching the top of the
  /// address space cannot overflow.
  func contains(_ address: UInt64) -> Bool {
    address >= virtualAddress && address - virtualAddress < memorySize
  }
}
