/// Where on an x86-64 probe site the uprobe goes: on the note's 1-byte `nop`, or one byte
/// later on the multi-byte nop that follows it, which the kernel can turn into a call to a
/// trampoline instead of an int3 trap (about half the cost per hit).
///
/// The rules, as libbpf's: the host is x86-64, the kernel's uprobe syscall says which combo it
/// optimizes (``KernelFeatures/nopOptimization``), and the bytes in the *file* at the site are
/// exactly that combo. A `nop; nop10` site is never shifted on a nop5-era kernel (the uprobe
/// there would never fire), nor when the 10-byte nop crosses a page (libbpf's newer rule).
/// One more rule of ours: a nop5 call pushes its return address at `rsp - 8`, so a site whose
/// arguments are read from below the stack pointer (the red zone, as clang -O2 emits) stays
/// on the 1-byte nop, where nothing is written.
enum NopCombo {
  static let nop5: [UInt8] = [0x90, 0x0f, 0x1f, 0x44, 0x00, 0x00]
  static let nop10: [UInt8] = [0x90, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00]
  static let pageSize: UInt64 = 4096

  /// How far to move the uprobe from the note's address: 0 or 1.
  static func shift(
    for site: Probe, in code: inout CodeBytes, optimization: KernelFeatures.NopOptimization
  ) -> UInt64 {
    let file = code.file
    guard let offset = site.fileOffset, file.architecture == .x86_64 else { return 0 }
    let combo: [UInt8]
    switch optimization {
    case .unavailable: return 0
    case .nop5: combo = nop5
    case .nop10:
      guard (offset + 1) % pageSize + 10 <= pageSize else { return 0 }
      combo = nop10
    }
    guard code.bytes(at: offset, count: combo.count) == combo else { return 0 }
    if optimization == .nop5, (site.arguments ?? []).contains(where: \.readsRedZone) { return 0 }
    return 1
  }
}

extension ArgumentSpec {
  /// Whether the value is read from below the stack pointer.
  var readsRedZone: Bool {
    switch operand {
    case .memory(let base, let offset): base.name == "rsp" && offset < 0
    case .indexed(let base?, _, _, _): base.name == "rsp"
    default: false
    }
  }
}

/// The executable segments of a file, read once per attach and only when needed, so checking
/// 50,000 sites costs one read, not 50,000.
struct CodeBytes {
  let file: ELFFile
  private var segments: [Int: [UInt8]] = [:]

  init(file: ELFFile) { self.file = file }

  mutating func bytes(at offset: UInt64, count: Int) -> [UInt8]? {
    guard
      let index = file.segments.firstIndex(where: {
        $0.isExecutable && offset >= $0.fileOffset && offset - $0.fileOffset < $0.fileSize
      })
    else { return nil }
    let segment = file.segments[index]
    if segments[index] == nil {
      segments[index] = try? file.bytes(atFileOffset: segment.fileOffset, count: Int(segment.fileSize))
    }
    guard let contents = segments[index] else { return nil }
    let start = Int(offset - segment.fileOffset)
    guard start + count <= contents.count else { return nil }
    return Array(contents[start..<start + count])
  }
}
