import Foundation
import Testing

@testable import USDT

/// `usdt check`: this library's verdict and libbpf 1.1.2's and 1.7's, per probe site.
@Suite("usdt check")
struct CheckCommandTests {
  /// `usdt check --json PATH…` as one decoded object.
  static func check(_ arguments: [String]) throws -> [String: Any] {
    let output = try run(usdtBinary(), ["check", "--json"] + arguments)
    return try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
  }

  static func target(_ name: String) -> String {
    ListAgreesWithReadelfTests.root.appendingPathComponent("TestTargets/out/\(name)").path
  }

  /// The three verdicts of a site, by JSON key.
  struct Verdicts {
    var site: [String: Any]
    func verdict(_ key: String) -> [String: Any] { site[key] as? [String: Any] ?? [:] }
    func attaches(_ key: String) -> Bool? { verdict(key)["attaches"] as? Bool }
    func errno(_ key: String) -> String? { verdict(key)["errno"] as? String }
    func reason(_ key: String) -> String { verdict(key)["reason"] as? String ?? "" }
    func unreadable(_ key: String) -> [Int] {
      (verdict(key)["unreadable"] as? [[String: Any]] ?? []).compactMap { $0["index"] as? Int }
    }
    func readable(_ key: String) -> [Int] { verdict(key)["readable"] as? [Int] ?? [] }
  }

  static func sites(_ report: [String: Any]) -> [Verdicts] {
    (report["sites"] as? [[String: Any]] ?? []).map(Verdicts.init)
  }

  @Test("gcc -O2: usdt12 attaches here, libbpf 1.1.2 refuses its SIB, 1.7 its symbol")
  func gccO2() throws {
    let report = try Self.check([Self.target("basic-gcc-O2")])
    #expect(report["arch"] as? String == "x86_64")
    let header = try #require(report["header"] as? [String: Any])
    let readsSIB = try #require(header["indexed"] as? Bool)
    let sites = Self.sites(report)
    #expect(sites.count == 6)
    let usdt12 = sites.filter { $0.site["name"] as? String == "usdt12" }
    #expect(usdt12.count == 2)
    for site in usdt12 {
      #expect(site.attaches("ours") == true)
      // Argument 10 is -2@(%rcx,%rdx,2): only a SIB-capable header reads it. Argument 11,
      // -1@4+t1(%rip), is read through %rip from the symbol table.
      #expect(site.unreadable("ours") == (readsSIB ? [] : [10]))
      #expect(site.readable("ours") == (0..<12).filter { readsSIB || $0 != 10 })

      #expect(site.attaches("libbpf_1_1_2") == false)
      #expect(site.errno("libbpf_1_1_2") == "ENOENT")
      #expect(site.reason("libbpf_1_1_2").contains("argument 10"))
      #expect(site.unreadable("libbpf_1_1_2") == [10, 11])
      #expect(site.readable("libbpf_1_1_2").isEmpty)

      #expect(site.attaches("libbpf_1_7") == false)
      #expect(site.errno("libbpf_1_7") == "EINVAL")
      #expect(site.reason("libbpf_1_7").contains("argument 11"))
      #expect(site.unreadable("libbpf_1_7") == [11])
    }
    // The second site is refused because of the first: libbpf attaches every site at once.
    #expect(usdt12.last?.reason("libbpf_1_1_2").hasPrefix("site at 0x") == true)
    for site in sites where site.site["name"] as? String != "usdt12" {
      for key in ["ours", "libbpf_1_1_2", "libbpf_1_7"] {
        #expect(site.attaches(key) == true, "\(site.site["name"] ?? "") \(key)")
        #expect(site.unreadable(key).isEmpty)
      }
    }
  }

  @Test("gcc -O0: every site attaches everywhere, every argument readable")
  func gccO0() throws {
    let report = try Self.check([Self.target("basic-gcc-O0")])
    let sites = Self.sites(report)
    #expect(sites.count == 6)
    for site in sites {
      let count = (site.site["args"] as? String ?? "").split(separator: " ").count
      for key in ["ours", "libbpf_1_1_2", "libbpf_1_7"] {
        #expect(site.attaches(key) == true)
        #expect(site.errno(key) == nil)
        #expect(site.unreadable(key).isEmpty)
        #expect(site.readable(key) == Array(0..<count))
      }
    }
  }

  @Test("PATH:provider:name selects sites; an unknown probe fails")
  func selects() throws {
    let report = try Self.check([Self.target("basic-gcc-O0") + ":test:usdt3"])
    #expect(Self.sites(report).map { $0.site["name"] as? String } == ["usdt3", "usdt3"])
    let result = try runCapturing(usdtBinary(), ["check", Self.target("basic-gcc-O0") + ":test:nope"])
    #expect(result.status != 0)
    #expect(result.error.contains("no such probe"))
  }

  @Test("text output marks each implementation")
  func text() throws {
    let output = try run(usdtBinary(), ["check", Self.target("basic-gcc-O2") + ":test:usdt12"])
    #expect(output.contains("ours"))
    #expect(output.contains("✗ ENOENT"))
    #expect(output.contains("✗ EINVAL"))
    #expect(output.contains("arg11 -1@4+t1(%rip)"))
  }

  // MARK: - libbpf's grammar, row by row (reference arguments.md §7)

  /// One row of the reference's fixture table: an argument string on one architecture and
  /// libbpf's verdicts (`nil` = attaches, else the errno name or `UB`).
  struct Row: Sendable, CustomStringConvertible {
    var ref: Int
    var machine: UInt16
    var is64Bit = true
    var bigEndian = false
    var arguments: String
    var v112: String?
    var v17: String?
    var description: String { "row \(ref): \(arguments)" }
  }

  static let x86 = UInt16(62), i386 = UInt16(3), aarch64 = UInt16(183), arm = UInt16(40)
  static let riscv = UInt16(243), s390x = UInt16(22), ppc = UInt16(21)

  static let rows: [Row] = [
    Row(ref: 1, machine: x86, arguments: "-4@-20(%rbp)", v112: nil, v17: nil),
    Row(ref: 17, machine: x86, arguments: "8@(%rsp)", v112: nil, v17: nil),
    Row(ref: 18, machine: x86, arguments: "-4@$42", v112: nil, v17: nil),
    Row(ref: 22, machine: x86, arguments: "8@%rip", v112: nil, v17: nil),
    Row(ref: 23, machine: x86, arguments: "8@16(%rip)", v112: nil, v17: nil),
    Row(ref: 24, machine: x86, arguments: "-2@(%rdx,%rax,2)", v112: "ENOENT", v17: nil),
    Row(ref: 26, machine: x86, arguments: "1@-96(%rbp,%rax,8)", v112: "ENOENT", v17: nil),
    Row(ref: 27, machine: x86, arguments: "1@-96(%rbp,%rax)", v112: "ENOENT", v17: nil),
    Row(ref: 28, machine: x86, arguments: "1@(%rbp,%rax)", v112: "ENOENT", v17: nil),
    Row(ref: 30, machine: x86, arguments: "1@-96(%rbp,%rax,3)", v112: "ENOENT", v17: "EINVAL"),
    Row(ref: 31, machine: x86, arguments: "-4@gvar(%rip)", v112: "EINVAL", v17: "EINVAL"),
    Row(ref: 32, machine: x86, arguments: "8@8+sym(%rip)", v112: "EINVAL", v17: "EINVAL"),
    Row(ref: 33, machine: x86, arguments: "8@sym-8(%rip)", v112: "EINVAL", v17: "EINVAL"),
    Row(ref: 34, machine: x86, arguments: "8f@dd(%rip)", v112: "EINVAL", v17: "EINVAL"),
    Row(ref: 35, machine: x86, arguments: "8f@%rax", v112: "EINVAL", v17: "EINVAL"),
    Row(ref: 38, machine: x86, arguments: "8@%xmm0", v112: "ENOENT", v17: "ENOENT"),
    Row(ref: 39, machine: x86, arguments: "-4@%ah", v112: "ENOENT", v17: "ENOENT"),
    Row(ref: 40, machine: x86, arguments: "-4@%fs:tlsv@tpoff", v112: "ENOENT", v17: "ENOENT"),
    Row(ref: 41, machine: x86, arguments: "-4@$0x10", v112: "EINVAL", v17: "EINVAL"),
    Row(ref: 42, machine: x86, arguments: "3@%eax", v112: "EINVAL", v17: "EINVAL"),
    Row(ref: 43, machine: x86, arguments: "16@%rax", v112: "EINVAL", v17: "EINVAL"),
    Row(ref: 44, machine: x86, arguments: "-24@(%rbx)", v112: "EINVAL", v17: "EINVAL"),
    Row(ref: 45, machine: x86, arguments: "-4@ -20 ( %rbp )", v112: "ENOENT", v17: "ENOENT"),
    Row(ref: 46, machine: x86, arguments: "-4@-20(%rbp) 1@(%rax,%rbx)", v112: "ENOENT", v17: "ENOENT"),
    Row(ref: 47, machine: x86, arguments: "-4@-20(%rbp) -4@-24(%rbp,%rax,4)", v112: "ENOENT", v17: nil),
    Row(ref: 48, machine: x86, arguments: "-4@-20(%rbp", v112: "UB", v17: "UB"),
    Row(ref: 49, machine: x86, arguments: "+4@%eax", v112: nil, v17: nil),
    Row(ref: 50, machine: x86, arguments: "-4@%EAX", v112: "ENOENT", v17: "ENOENT"),
    Row(ref: 51, machine: i386, is64Bit: false, arguments: "-4@20(%esp)", v112: nil, v17: nil),
    Row(ref: 52, machine: i386, is64Bit: false, arguments: "-2@(%edx,%eax,2)", v112: "ENOENT", v17: nil),
    Row(ref: 53, machine: i386, is64Bit: false, arguments: "8f@32(%esp)", v112: "EINVAL", v17: "EINVAL"),
    Row(ref: 54, machine: aarch64, arguments: "-4@[x8]", v112: nil, v17: nil),
    Row(ref: 55, machine: aarch64, arguments: "-4@42", v112: nil, v17: nil),
    Row(ref: 56, machine: aarch64, arguments: "-4@[sp, 96]", v112: nil, v17: nil),
    Row(ref: 57, machine: aarch64, arguments: "-4@[x29, -20]", v112: nil, v17: nil),
    Row(ref: 58, machine: aarch64, arguments: "-8@x4", v112: nil, v17: nil),
    Row(ref: 59, machine: aarch64, arguments: "-4@[sp , 96]", v112: "UB", v17: nil),
    Row(ref: 60, machine: aarch64, arguments: "-4@w0", v112: "ENOENT", v17: "ENOENT"),
    Row(ref: 61, machine: aarch64, arguments: "8@x31", v112: "ENOENT", v17: "ENOENT"),
    Row(ref: 62, machine: aarch64, arguments: "-1@[x0, x1]", v112: "UB", v17: "UB"),
    Row(ref: 63, machine: aarch64, arguments: "8@[x21, #:lo12:.LANCHOR2]", v112: "UB", v17: "UB"),
    Row(ref: 64, machine: arm, is64Bit: false, arguments: "-4@[r6]", v112: "ENOTSUP", v17: nil),
    Row(ref: 65, machine: arm, is64Bit: false, arguments: "-4@#42", v112: "ENOTSUP", v17: nil),
    Row(ref: 66, machine: arm, is64Bit: false, arguments: "-4@[fp, #96]", v112: "ENOTSUP", v17: nil),
    Row(ref: 67, machine: arm, is64Bit: false, arguments: "1@[lr]", v112: "ENOTSUP", v17: nil),
    Row(ref: 68, machine: arm, is64Bit: false, arguments: "4@r11", v112: "ENOTSUP", v17: "ENOENT"),
    Row(ref: 69, machine: riscv, arguments: "-4@44(sp)", v112: nil, v17: nil),
    Row(ref: 70, machine: riscv, arguments: "-8@-88(s0)", v112: nil, v17: nil),
    Row(ref: 71, machine: riscv, arguments: "-8@a1", v112: nil, v17: nil),
    Row(ref: 72, machine: riscv, arguments: "-4@(a0)", v112: "EINVAL", v17: "EINVAL"),
    Row(ref: 73, machine: s390x, bigEndian: true, arguments: "-4@172(%r15)", v112: nil, v17: nil),
    Row(ref: 74, machine: s390x, bigEndian: true, arguments: "-8@%r0", v112: nil, v17: nil),
    Row(ref: 75, machine: s390x, bigEndian: true, arguments: "4@71", v112: nil, v17: nil),
    Row(ref: 76, machine: s390x, bigEndian: true, arguments: "8@%r16", v112: "EINVAL", v17: "EINVAL"),
    Row(ref: 77, machine: ppc, arguments: "-4@0(3)", v112: "ENOTSUP", v17: "ENOTSUP"),
    Row(ref: 78, machine: ppc, arguments: "-4@i42", v112: "ENOTSUP", v17: "ENOTSUP"),
    // Beyond the table: 1.7's SIB pattern reading across a blank into a real gcc -O2 form.
    Row(ref: 0, machine: x86, arguments: "-4@8(%rsp) -8@(%rax,%r8,8)", v112: "ENOENT", v17: "ENOENT"),
    Row(ref: 0, machine: x86, arguments: "", v112: nil, v17: nil),
    Row(
      ref: 0, machine: x86,
      arguments: (0..<13).map { _ in "-4@%eax" }.joined(separator: " "), v112: "E2BIG", v17: "E2BIG"),
  ]

  @Test("libbpf's verdict per argument form", arguments: rows)
  func libbpfVerdicts(_ row: Row) throws {
    let path = try Self.writeELF(machine: row.machine, is64Bit: row.is64Bit, bigEndian: row.bigEndian, notes: [
      (pc: 0x1150, arguments: row.arguments)
    ])
    defer { try? FileManager.default.removeItem(atPath: path) }
    let site = try #require(Self.sites(try Self.check([path])).first)
    #expect(site.attaches("libbpf_1_1_2") == (row.v112 == nil))
    #expect(site.errno("libbpf_1_1_2") == row.v112)
    #expect(site.attaches("libbpf_1_7") == (row.v17 == nil))
    #expect(site.errno("libbpf_1_7") == row.v17)
    // Every refusal names the argument at fault, or says why the file is refused.
    if row.v112 != nil { #expect(!site.reason("libbpf_1_1_2").isEmpty) }
  }

  @Test("a malformed note makes libbpf refuse every probe of the file, not this library")
  func malformedNote() throws {
    let path = try Self.writeELF(
      machine: Self.x86, is64Bit: true, bigEndian: false,
      notes: [(pc: 0x1150, arguments: "-4@%edi")],
      extra: [NoteBuilder.note(descriptor: [1, 2, 3], order: .little)])
    defer { try? FileManager.default.removeItem(atPath: path) }
    let report = try Self.check([path])
    #expect((report["malformed_notes"] as? [String])?.count == 1)
    let site = try #require(Self.sites(report).first)
    #expect(site.attaches("ours") == true)
    for key in ["libbpf_1_1_2", "libbpf_1_7"] {
      #expect(site.attaches(key) == false)
      #expect(site.errno(key) == "EINVAL")
      #expect(site.reason(key).contains("malformed"))
    }
  }

  @Test("a site outside every executable segment attaches nowhere")
  func unmappedSite() throws {
    let path = try Self.writeELF(
      machine: Self.x86, is64Bit: true, bigEndian: false, notes: [(pc: 0x9000, arguments: "-4@%edi")])
    defer { try? FileManager.default.removeItem(atPath: path) }
    let site = try #require(Self.sites(try Self.check([path])).first)
    #expect(site.attaches("ours") == false)
    #expect(site.errno("libbpf_1_1_2") == "ESRCH")
    #expect(site.errno("libbpf_1_7") == "ESRCH")
  }

  /// A small executable of `machine` with one executable segment (0…0x2000) and `notes` for
  /// probes `test:p0`, `test:p1`… at the given addresses; `extra` notes are appended verbatim.
  static func writeELF(
    machine: UInt16, is64Bit: Bool, bigEndian: Bool, notes: [(pc: UInt64, arguments: String)],
    extra: [[UInt8]] = []
  ) throws -> String {
    let order: ByteOrder = bigEndian ? .big : .little
    var builder = ELFBuilder(is64Bit: is64Bit, byteOrder: order)
    builder.type = 2
    builder.machine = machine
    builder.segments = [Segment(virtualAddress: 0, fileOffset: 0, fileSize: 0x2000, memorySize: 0x2000, flags: 5)]
    let encoded = notes.enumerated().map { index, note in
      NoteBuilder.stapsdt(
        pc: note.pc, base: 0, semaphore: 0, provider: "test", name: "p\(index)", arguments: note.arguments,
        is64Bit: is64Bit, order: order)
    }
    builder.sections = [.init(name: ".note.stapsdt", type: 7, contents: (encoded + extra).flatMap { $0 })]
    let path = FileManager.default.temporaryDirectory
      .appendingPathComponent("usdt-check-\(UUID().uuidString)").path
    try Data(builder.build()).write(to: URL(fileURLWithPath: path))
    return path
  }
}

/// Runs a program to its end; returns its status, standard output and standard error.
func runCapturing(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  let output = Pipe()
  let error = Pipe()
  process.standardOutput = output
  process.standardError = error
  try process.run()
  // Standard error is short here (one message), so reading it second cannot block the program.
  let outputData = output.fileHandleForReading.readDataToEndOfFile()
  let errorData = error.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
}
