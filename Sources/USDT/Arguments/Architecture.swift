/// The instruction set a file was built for, taken from the ELF header's `e_machine`.
///
/// The argument grammar and register table follow the *file's* architecture, never the host's,
/// so a probe in an aarch64 library can be listed on an x86-64 machine.
public enum Architecture: String, Sendable, Hashable, CaseIterable, Codable {
  case x86_64, aarch64, arm, i386, riscv64, riscv32, s390x, ppc64le, ppc64, ppc, loongarch64, mips

  /// Maps `e_machine` (and, where one machine number covers several, the class and byte order).
  public init?(machine: UInt16, is64Bit: Bool, isLittleEndian: Bool) {
    switch machine {
    case 62: self = .x86_64
    case 183: self = .aarch64
    case 40: self = .arm
    case 3: self = .i386
    case 243: self = is64Bit ? .riscv64 : .riscv32
    case 22: self = .s390x
    case 21: self = isLittleEndian ? .ppc64le : .ppc64
    case 20: self = .ppc
    case 258: self = .loongarch64
    case 8: self = .mips
    default: return nil
    }
  }
}
