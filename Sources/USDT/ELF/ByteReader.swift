/// Reads fixed-size integers out of a byte buffer in a given byte order, with bounds checks.
///
/// Every offset and count the reader sees may come from an untrusted file, so each read checks
/// its range without trapping arithmetic and throws instead of crashing. The error kind is chosen
/// by the caller: a short header is `.malformedELF`, a short note is `.malformedNote`.
struct ByteReader {
  let bytes: [UInt8]
  let byteOrder: ByteOrder
  /// Whether an ELF word (address, offset, size) is 8 bytes (`ELFCLASS64`) or 4 (`ELFCLASS32`).
  let is64Bit: Bool
  /// The error kind thrown when a read falls outside ``bytes``.
  let errorKind: USDTError.Kind
  /// What the bytes are, for error messages ("the ELF header", "section .note.stapsdt").
  let what: String

  /// The size of an ELF word (`ElfN_Addr`, `ElfN_Off`, `ElfN_Xword`) in this file's class.
  var wordSize: Int { is64Bit ? 8 : 4 }

  func u8(at offset: Int) throws(USDTError) -> UInt8 {
    try checkRange(offset, 1)
    return bytes[offset]
  }

  func u16(at offset: Int) throws(USDTError) -> UInt16 {
    UInt16(truncatingIfNeeded: try integer(at: offset, size: 2))
  }

  func u32(at offset: Int) throws(USDTError) -> UInt32 {
    UInt32(truncatingIfNeeded: try integer(at: offset, size: 4))
  }

  func u64(at offset: Int) throws(USDTError) -> UInt64 {
    try integer(at: offset, size: 8)
  }

  /// A class-sized word (`ElfN_Addr`/`ElfN_Off`/`ElfN_Xword`), widened to 64 bits.
  func word(at offset: Int) throws(USDTError) -> UInt64 {
    try integer(at: offset, size: wordSize)
  }

  /// The bytes `offset ..< offset + count`, after a bounds check.
  func slice(at offset: Int, count: Int) throws(USDTError) -> ArraySlice<UInt8> {
    try checkRange(offset, count)
    return bytes[offset..<(offset + count)]
  }

  /// The NUL-terminated string at `offset` and the offset just past its NUL, or nil when no NUL
  /// comes before `limit` (the end of the buffer by default) or `offset` is out of range.
  ///
  /// Invalid UTF-8 is repaired rather than rejected: names are only compared and printed.
  func cString(at offset: Int, limit: Int? = nil) -> (text: String, next: Int)? {
    let end = min(limit ?? bytes.count, bytes.count)
    guard offset >= 0, offset < end,
      let nul = bytes[offset..<end].firstIndex(of: 0)
    else { return nil }
    return (String(decoding: bytes[offset..<nul], as: UTF8.self), nul + 1)
  }

  /// Assembles `size` bytes into an integer; the byte order decides which byte is most significant.
  private func integer(at offset: Int, size: Int) throws(USDTError) -> UInt64 {
    try checkRange(offset, size)
    var value: UInt64 = 0
    for i in 0..<size {
      let byte = byteOrder == .little ? bytes[offset + size - 1 - i] : bytes[offset + i]
      value = value << 8 | UInt64(byte)
    }
    return value
  }

  /// Throws unless `offset ..< offset + count` lies inside ``bytes``; never overflows.
  private func checkRange(_ offset: Int, _ count: Int) throws(USDTError) {
    guard offset >= 0, count >= 0, offset <= bytes.count, count <= bytes.count - offset else {
      throw USDTError(
        errorKind,
        "\(what) is truncated: \(count) bytes at offset \(offset) are past its end (\(bytes.count) bytes)")
    }
  }
}
