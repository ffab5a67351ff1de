/// One parsed USDT argument: `[-]SIZE[f]@OPERAND`.
///
/// The size governs, not the register name: `%rax` may carry a 4-byte value and `%eax` an 8-byte
/// one, so the BPF side reads the whole 8-byte slot and truncates with ``bitShift``.
public struct ArgumentSpec: Sendable, Hashable {
  /// Size of the value in bytes: 1, 2, 4 or 8.
  public var size: Int
  /// Whether the value is sign-extended (a leading `-` on the size).
  public var isSigned: Bool
  /// Whether the value is an IEEE float (`4f@`) or double (`8f@`).
  public var isFloat: Bool
  /// Where the value lives.
  public var operand: Operand
  /// The operand text after `@`, verbatim.
  public var text: String

  public init(size: Int, isSigned: Bool, isFloat: Bool = false, operand: Operand, text: String) {
    self.size = size
    self.isSigned = isSigned
    self.isFloat = isFloat
    self.operand = operand
    self.text = text
  }

  /// Shift that truncates an 8-byte read to ``size`` and extends it back: `64 - 8 * size`.
  public var bitShift: Int { 64 - 8 * size }
}

/// A register slot in the kernel's `struct pt_regs` for the file's architecture.
///
/// Every alias (`%rax`, `%eax`, `%ax`, `%al`) maps to the same slot; the argument size truncates.
public struct Register: Sendable, Hashable, CustomStringConvertible {
  /// The canonical (full-width) name, e.g. `rax`, `x29`, `r15`.
  public var name: String
  /// Byte offset of the slot in `struct pt_regs` (the uprobe's BPF context).
  public var offset: Int

  public init(name: String, offset: Int) {
    self.name = name
    self.offset = offset
  }

  public var description: String { name }
}

/// Where an argument's value lives at the probe site.
public enum Operand: Sendable, Hashable {
  /// An immediate: `$42` (x86), `#42` (arm), `42` (aarch64, riscv), `i42` (ppc).
  case constant(Int64)
  /// The value is in a register.
  case register(Register)
  /// The value is in memory at `base + offset`.
  case memory(base: Register, offset: Int64)
  /// The value is in memory at `base + index * scale + offset` (x86 SIB, aarch64 `[xN, xM]`).
  case indexed(base: Register?, index: Register, scale: Int, offset: Int64)
  /// The value is in memory at the address of a symbol plus an offset (`sym+8(%rip)`).
  case symbol(name: String, offset: Int64)
  /// The value cannot be read at a uprobe (a vector register, thread-local storage, text no
  /// grammar knows). The probe still attaches; reading this one argument fails.
  case unavailable(reason: String)
}
