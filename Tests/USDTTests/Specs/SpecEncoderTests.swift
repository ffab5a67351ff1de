import Foundation
import Testing

@testable import USDT

/// The encoder against the byte patterns in the reference (bpf-abi.md §2), using the layout
/// read from the BTF of an object built against Debian's libbpf 1.1.2 header.
@Suite("spec layout and encoding")
struct SpecEncoderTests {
  static let recorder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("TestTargets/out/recorder.bpf.o").path

  func layout() throws -> SpecLayout {
    guard FileManager.default.fileExists(atPath: Self.recorder) else {
      Issue.record("\(Self.recorder) is missing: run `make bpf`")
      throw CancellationError()
    }
    return try SpecLayout(objectFile: Self.recorder)
  }

  @Test("libbpf 1.1.2 layout: 208-byte spec, 16-byte arguments")
  func layout112() throws {
    let layout = try layout()
    #expect(layout.specSize == 208)
    #expect(layout.argStride == 16)
    #expect(layout.maxArguments == 12)
    #expect(layout.cookie.bitOffset == 1536)
    #expect(layout.argCount == .init(bitOffset: 1600, bitCount: 16))
    #expect(layout.registerOffset == .init(bitOffset: 96, bitCount: 16))
    #expect(layout.argType == .init(bitOffset: 64, bitCount: 32))
    #expect(!layout.supportsSIB)
    #expect([layout.constantKind, layout.registerKind, layout.dereferenceKind] == [0, 1, 2])
  }

  @Test("the value size must match the spec struct")
  func rejectsSizeMismatch() throws {
    _ = try layout()
    let error = try #require(throws: USDTError.self) {
      try SpecLayout(objectFile: Self.recorder, mapValueSize: 304)
    }
    #expect(error.kind == .incompatibleBPFObject)
  }

  @Test(
    "arguments encode to the reference bytes",
    arguments: [
      (
        ArgumentSpec(size: 4, isSigned: true, operand: .memory(base: .init(name: "rbp", offset: 32), offset: -20), text: "-20(%rbp)"),
        "ec ff ff ff ff ff ff ff 02 00 00 00 20 00 01 20"
      ),
      (
        ArgumentSpec(size: 4, isSigned: true, operand: .constant(42), text: "$42"),
        "2a 00 00 00 00 00 00 00 00 00 00 00 00 00 01 20"
      ),
      (
        ArgumentSpec(size: 1, isSigned: false, operand: .register(.init(name: "rsi", offset: 104)), text: "%sil"),
        "00 00 00 00 00 00 00 00 01 00 00 00 68 00 00 38"
      ),
      (
        ArgumentSpec(size: 8, isSigned: false, isFloat: true, operand: .register(.init(name: "rax", offset: 80)), text: "%rax"),
        "00 00 00 00 00 00 00 00 01 00 00 00 50 00 00 00"
      ),
    ])
  func encodes(argument: ArgumentSpec, hex: String) throws {
    let layout = try layout()
    let bytes = try SpecEncoder.encode([argument], cookie: 0x1122_3344_5566_7788, layout: layout).bytes
    #expect(bytes.count == 208)
    #expect(bytes[0..<16].map { String(format: "%02x", $0) }.joined(separator: " ") == hex)
    #expect(bytes[192..<200] == [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11])
    #expect(bytes[200..<202] == [1, 0])
  }

  @Test("operands the 1.1.2 header cannot read are marked unavailable, or refused when strict")
  func unreadableOperands() throws {
    let layout = try layout()
    let ok = ArgumentSpec(size: 4, isSigned: true, operand: .constant(1), text: "$1")
    let sib = ArgumentSpec(
      size: 2, isSigned: true,
      operand: .indexed(base: .init(name: "rdx", offset: 96), index: .init(name: "rax", offset: 80), scale: 2, offset: 0),
      text: "(%rdx,%rax,2)")
    let lenient = try SpecEncoder.encode([ok, sib], cookie: 0, layout: layout)
    #expect(lenient.unavailable.map(\.argument) == [1])
    // arg_type 0x7f: outside libbpf's enum, so its decoder answers -EINVAL for this argument.
    #expect(lenient.bytes[16 + 8] == 0x7f)
    #expect(lenient.bytes[16 + 15] == 48, "the size survives")
    #expect(lenient.bytes[8] == 0, "the constant before it is untouched")
    let error = try #require(throws: USDTError.self) {
      try SpecEncoder.encode([ok, sib], cookie: 0, layout: layout, strict: true)
    }
    #expect(error.kind == .unsupportedOperand)
    #expect(error.argument == 1)
    #expect(error.input == "(%rdx,%rax,2)")
  }
}

@Suite("spec allocator")
struct SpecAllocatorTests {
  @Test("counts up, reuses last-in first-out, and fails with E2BIG when full")
  func allocation() throws {
    let allocator = SpecAllocator(capacity: 3)
    let ids = try (0..<3).map { _ in try allocator.allocate() }
    #expect(ids == [0, 1, 2])
    let error = try #require(throws: USDTError.self) { try allocator.allocate() }
    #expect(error.kind == .specMapFull)
    #expect(error.errno == .argListTooLong)
    allocator.release([0, 2])
    #expect(allocator.inUse == 1)
    #expect(try allocator.allocate() == 2)
    #expect(try allocator.allocate() == 0)
    #expect(allocator.inUse == 3)
  }
}

/// The libbpf ≥ 1.7 layout (24-byte argument spec with SIB bitfields), from an object whose
/// BTF describes it, against the reference's encoded examples (bpf-abi.md §2).
@Suite("libbpf 1.7 spec layout")
struct SpecLayout17Tests {
  static let object = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("TestTargets/out/layout-libbpf17.bpf.o").path

  func layout() throws -> SpecLayout {
    guard FileManager.default.fileExists(atPath: Self.object) else {
      Issue.record("\(Self.object) is missing: run `make bpf`")
      throw CancellationError()
    }
    return try SpecLayout(objectFile: Self.object)
  }

  @Test("sizes, offsets and bitfields are read from BTF")
  func reads() throws {
    let layout = try layout()
    #expect(layout.specSize == 304)
    #expect(layout.argStride == 24)
    #expect(layout.cookie.bitOffset == 2304)
    #expect(layout.argCount.bitOffset == 2368)
    #expect(layout.argType == .init(bitOffset: 64, bitCount: 8))
    #expect(layout.indexRegisterOffset == .init(bitOffset: 80, bitCount: 12))
    #expect(layout.scaleBitShift == .init(bitOffset: 92, bitCount: 4))
    #expect(layout.registerOffset == .init(bitOffset: 112, bitCount: 16))
    #expect(layout.supportsSIB)
    #expect(layout.argFlags == nil)
  }

  static let rbp = Register(name: "rbp", offset: 32)
  static let rdx = Register(name: "rdx", offset: 96)
  static let rax = Register(name: "rax", offset: 80)

  @Test(
    "arguments encode to the reference bytes",
    arguments: [
      (
        ArgumentSpec(size: 2, isSigned: true, operand: .indexed(base: rdx, index: rax, scale: 2, offset: 0), text: "(%rdx,%rax,2)"),
        "00 00 00 00 00 00 00 00 03 00 50 10 00 00 60 00 01 30 00 00 00 00 00 00"
      ),
      (
        ArgumentSpec(size: 4, isSigned: true, operand: .memory(base: rbp, offset: -20), text: "-20(%rbp)"),
        "ec ff ff ff ff ff ff ff 02 00 00 00 00 00 20 00 01 20 00 00 00 00 00 00"
      ),
      (
        ArgumentSpec(size: 4, isSigned: true, operand: .constant(42), text: "$42"),
        "2a 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 20 00 00 00 00 00 00"
      ),
    ])
  func encodes(argument: ArgumentSpec, hex: String) throws {
    let encoded = try SpecEncoder.encode([argument], cookie: 7, layout: try layout())
    #expect(encoded.unavailable.isEmpty)
    #expect(encoded.bytes[0..<24].map { String(format: "%02x", $0) }.joined(separator: " ") == hex)
    #expect(encoded.bytes[288] == 7)
    #expect(encoded.bytes[296] == 1)
  }
}
