/// Encodes parsed arguments and the user's cookie into one `struct __bpf_usdt_spec` value.
///
/// Every field is written at the bit position the object's BTF gave (``SpecLayout``), in
/// little-endian bit order: BPF objects loaded here are built for the host (`bpfel`).
enum SpecEncoder {
  /// One spec-map value, and the arguments it could only mark unavailable.
  struct Encoded {
    var bytes: [UInt8]
    /// One error per argument the BPF side will refuse to read (index in ``USDTError/argument``).
    var unavailable: [USDTError]
  }

  /// The bytes of one spec-map value.
  ///
  /// An argument the object's header cannot read (SIB without a SIB-capable header, a symbol
  /// that was not resolved, an operand a uprobe cannot see) is written as unavailable:
  /// `bpf_usdt_arg()` then fails for that argument alone (`-ENODATA` with our header, `-EINVAL`
  /// with libbpf's, whose decoder rejects the unknown type).
  ///
  /// - Parameter strict: refuse such an argument instead, as libbpf does.
  /// - Throws: `.unsupportedOperand` for more arguments than the spec holds, and in strict mode
  ///   for the first unreadable argument, with its index.
  static func encode(
    _ arguments: [ArgumentSpec], cookie: UInt64, layout: SpecLayout, strict: Bool = false
  ) throws(USDTError) -> Encoded {
    guard arguments.count <= layout.maxArguments else {
      throw USDTError(
        .unsupportedOperand,
        "\(arguments.count) arguments, but the BPF object's spec holds at most \(layout.maxArguments)")
    }
    var bytes = [UInt8](repeating: 0, count: layout.specSize)
    var unavailable: [USDTError] = []
    write(&bytes, layout.cookie, Int64(bitPattern: cookie), at: 0)
    write(&bytes, layout.argCount, Int64(arguments.count), at: 0)
    for (index, argument) in arguments.enumerated() {
      let base = (layout.argsOffset + index * layout.argStride) * 8
      if let reason = unreadableReason(argument.operand, layout: layout) {
        let error = USDTError(.unsupportedOperand, reason, argument: index, input: argument.text)
        if strict { throw error }
        unavailable.append(error)
        write(&bytes, layout.argType, layout.unavailableKind, at: base)
      } else {
        encode(argument, into: &bytes, at: base, layout: layout)
      }
      // Floats are read as their raw bits: zero-extend, never sign-extend.
      write(&bytes, layout.isSigned, argument.isSigned && !argument.isFloat ? 1 : 0, at: base)
      write(&bytes, layout.bitShift, Int64(argument.bitShift), at: base)
      if let flags = layout.argFlags, argument.isFloat {
        write(&bytes, flags, SpecLayout.floatFlag, at: base)
      }
    }
    return Encoded(bytes: bytes, unavailable: unavailable)
  }

  /// Why the object's header cannot read `operand`, or `nil` when it can.
  static func unreadableReason(_ operand: Operand, layout: SpecLayout) -> String? {
    switch operand {
    case .constant, .register, .memory: nil
    case .indexed(let base, _, let scale, _):
      if base == nil { "an index without a base register cannot be read" }
      else if !layout.supportsSIB {
        "base+index*scale operands need a BPF object built with a SIB-capable usdt.bpf.h (libbpf ≥ 1.7 or SwiftUSDT's), this one uses \(layout.headerName)"
      } else if scale <= 0 || scale & (scale - 1) != 0 { "scale \(scale) is not a power of two" }
      else { nil }
    case .symbol(let name, _): "symbol \(name) was not resolved to an address"
    case .unavailable(let reason): reason
    }
  }

  /// Writes one readable argument's location.
  private static func encode(
    _ argument: ArgumentSpec, into bytes: inout [UInt8], at base: Int, layout: SpecLayout
  ) {
    switch argument.operand {
    case .constant(let value):
      write(&bytes, layout.argType, layout.constantKind, at: base)
      write(&bytes, layout.valueOffset, value, at: base)
    case .register(let register):
      write(&bytes, layout.argType, layout.registerKind, at: base)
      write(&bytes, layout.registerOffset, Int64(register.offset), at: base)
    case .memory(let register, let offset):
      write(&bytes, layout.argType, layout.dereferenceKind, at: base)
      write(&bytes, layout.registerOffset, Int64(register.offset), at: base)
      write(&bytes, layout.valueOffset, offset, at: base)
    case .indexed(let baseRegister?, let index, let scale, let offset):
      if let sib = layout.sibKind, let indexField = layout.indexRegisterOffset,
        let scaleField = layout.scaleBitShift
      {
        write(&bytes, layout.argType, sib, at: base)
        write(&bytes, layout.registerOffset, Int64(baseRegister.offset), at: base)
        write(&bytes, indexField, Int64(index.offset), at: base)
        write(&bytes, scaleField, Int64(scale.trailingZeroBitCount), at: base)
        write(&bytes, layout.valueOffset, offset, at: base)
      }
    case .indexed(nil, _, _, _), .symbol, .unavailable:
      break  // unreadableReason caught these
    }
  }

  /// Writes the low `field.bitCount` bits of `value` at `base + field.bitOffset`, LSB first.
  static func write(_ bytes: inout [UInt8], _ field: SpecLayout.Field, _ value: Int64, at base: Int) {
    let start = base + field.bitOffset
    let pattern = UInt64(bitPattern: value)
    for bit in 0..<min(field.bitCount, 64) {
      let position = start + bit
      let mask = UInt8(1) << UInt8(position % 8)
      if (pattern >> UInt64(bit)) & 1 == 1 {
        bytes[position / 8] |= mask
      } else {
        bytes[position / 8] &= ~mask
      }
    }
  }
}
