/// Translation of link-time addresses into file offsets through the `PT_LOAD` segments.
///
/// The kernel attaches a uprobe at *(inode, file offset)* and takes the semaphore as a file
/// offset too (`ref_ctr_offset`), while notes record virtual addresses. Within a `PT_LOAD`
/// segment the two differ by a constant, `p_vaddr - p_offset`, which is often not 0 (lld lays
/// out `.text` at vaddr 0x1700 but file offset 0x700). The formula is the same for `ET_EXEC`,
/// PIE and shared libraries, because a file offset does not depend on the load address.
extension ELFFile {
  /// The file offset of the instruction at link-time `address` (a note's adjusted pc).
  ///
  /// As libbpf does, it takes the first `PT_LOAD` (by address) whose `[p_vaddr, p_vaddr +
  /// p_memsz)` contains the address, and requires that segment to be executable (`PF_X`).
  ///
  /// - Throws: `.addressNotMapped` when there is no such segment (a relocatable object has
  ///   none at all) or it is not executable.
  public func fileOffset(ofCode address: UInt64) throws(USDTError) -> UInt64 {
    try fileOffset(of: address, executable: true)
  }

  /// The file offset of a semaphore at link-time `address` (a note's adjusted, non-zero semaphore).
  ///
  /// The kernel increments the 2-byte counter there while a uprobe is attached. libbpf requires
  /// the containing `PT_LOAD` to be non-executable; it does not insist on `PF_W`, nor do we.
  ///
  /// - Throws: `.addressNotMapped` when no `PT_LOAD` contains the address or it is executable.
  public func fileOffset(ofData address: UInt64) throws(USDTError) -> UInt64 {
    try fileOffset(of: address, executable: false)
  }

  /// `sh_addr` of the `.stapsdt.base` section, or 0 when the file has none.
  ///
  /// sdt.h emits this one-byte section so that prelink's relocation of a file can be measured
  /// against the `base` each note recorded at link time (``StapsdtNote/adjustedPC(sectionBase:)``).
  public var stapsdtBaseAddress: UInt64 {
    section(named: ".stapsdt.base")?.address ?? 0
  }

  private func fileOffset(of address: UInt64, executable: Bool) throws(USDTError) -> UInt64 {
    let what = executable ? "code address" : "data address"
    guard !segments.isEmpty else {
      throw USDTError(
        .addressNotMapped, "\(what) \(Self.hex(address)): the file has no PT_LOAD segments", binary: path,
        hint: "Relocatable objects (.o) cannot be probed; link them first")
    }
    guard let segment = segments.first(where: { $0.contains(address) }) else {
      throw USDTError(.addressNotMapped, "\(what) \(Self.hex(address)) is in no PT_LOAD segment", binary: path)
    }
    guard segment.isExecutable == executable else {
      throw USDTError(
        .addressNotMapped,
        "\(what) \(Self.hex(address)) is in a\(executable ? " non-" : "n ")executable PT_LOAD segment "
          + "(vaddr \(Self.hex(segment.virtualAddress)))",
        binary: path)
    }
    // contains() guarantees address >= virtualAddress; only the sum can overflow.
    let (offset, overflow) = segment.fileOffset.addingReportingOverflow(address - segment.virtualAddress)
    guard !overflow else {
      throw USDTError(.malformedELF, "\(what) \(Self.hex(address)) maps past the largest file offset", binary: path)
    }
    return offset
  }
}
