/// The byte order of an ELF file, from `EI_DATA` in its identification bytes.
///
/// Every multi-byte field of the file, note descriptors included, is stored in this order.
/// It is a property of the file, never of the host: an s390x library is big-endian even when it
/// is read on x86-64.
public enum ByteOrder: String, Sendable, Codable {
  case little, big
}
