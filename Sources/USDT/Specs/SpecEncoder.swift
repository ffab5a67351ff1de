/// Encodes parsed arguments and the user's cookie into one `struct __bpf_usdt_spec` value.
///
/// Every field is written at the bit position the object's BTF gave (``SpecLayout``), in
/// little-endian bit order: BPF objects loaded here are built for the host (`bpfel`).
enum SpecEncoder {
  /// The bytes of one spec-map value.
  ///
  /// - Throws: `.unsupportedOperand` when an operand cannot be expressed in this layout
  ///   (SIB without libbpf ≥ 1.7's header, a symbol-relative operand), with the argument index.
  static func encode(_ arguments: [ArgumentSpec], cookie: UInt64, layout: SpecLayout)
    throws(USDTError) -> [UInt8]
  {
    guard arguments.count <= layout.maxArguments else {
      throw USDTError(
        .unsupportedOperand,
        "\(arguments.count) arguments, but the BPF object's spec holds at most \(layout.maxArguments)")
    }
    var bytes = [UInt8](repeating: 0, count: layout.specSize)
    write(&bytes, layout.cookie, Int64(bitPattern: cookie), at: 0)
    write(&bytes, layout.argCount, Int64(arguments.count), at: 0)
    for (index, argument) in arguments.enumerated() {
      let base = (layout.argsOffset + index * layout.argStride) * 8
      do {
        try encode(argument, into: &bytes, at: base, layout: layout)
      } catch {
        throw error.adding(argument: index)
      }
    }
    return bytes
  }

  private static func encode(
    _ argument: ArgumentSpec, into bytes: inout [UInt8], at base: Int, layout: SpecLayout
  ) throws(USDTError) {
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
      guard let sib = layout.sibKind, let indexField = layout.indexRegisterOffset,
        let scaleField = layout.scaleBitShift, scale > 0, scale & (scale - 1) == 0
      else {
        throw USDTError(
          .unsupportedOperand,
          "base+index*scale operands need a BPF object built with libbpf ≥ 1.7's usdt.bpf.h, this one uses \(layout.headerName)",
          input: argument.text)
      }
      write(&bytes, layout.argType, sib, at: base)
      write(&bytes, layout.registerOffset, Int64(baseRegister.offset), at: base)
      write(&bytes, indexField, Int64(index.offset), at: base)
      write(&bytes, scaleField, Int64(scale.trailingZeroBitCount), at: base)
      write(&bytes, layout.valueOffset, offset, at: base)
    case .indexed(nil, _, _, _), .symbol:
      throw USDTError(
        .unsupportedOperand, "\(layout.headerName) cannot read this operand", input: argument.text)
    }
    // Floats are read as their raw bits: zero-extend, never sign-extend.
    write(&bytes, layout.isSigned, argument.isSigned && !argument.isFloat ? 1 : 0, at: base)
    write(&bytes, layout.bitShift, Int64(argument.bitShift), at: base)
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
