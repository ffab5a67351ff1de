import Testing

@testable import USDT

/// Whole argument strings: splitting, counting, whitespace, and which argument an error names.
@Suite("argument strings")
struct ArgumentParsingTests {
  static func reg(_ name: String, _ offset: Int) -> Register { Register(name: name, offset: offset) }
  static let rax = reg("rax", 80), rbx = reg("rbx", 40), rdx = reg("rdx", 96), rbp = reg("rbp", 32)

  struct Case: Sendable, CustomTestStringConvertible {
    var input: String
    var expected: [Operand]
    var sizes: [Int]
    var testDescription: String { input.debugDescription }
  }

  @Test("multi-argument strings split into their arguments", arguments: [
    // usdt3-like (selftests: sizes {4, 8, 8})
    Case(
      input: "-4@$1 -8@%rax 8@%rdx", expected: [.constant(1), .register(rax), .register(rdx)],
      sizes: [4, 8, 8]),
    // Reference row 46: libbpf 1.7's SIB pattern reads "rbp) 1@(%rax" as a register here.
    Case(
      input: "-4@-20(%rbp) 1@(%rax,%rbx)",
      expected: [
        .memory(base: rbp, offset: -20), .indexed(base: rax, index: rbx, scale: 1, offset: 0),
      ], sizes: [4, 1]),
    // Reference row 47.
    Case(
      input: "-4@-20(%rbp) -4@-24(%rbp,%rax,4)",
      expected: [
        .memory(base: rbp, offset: -20), .indexed(base: rbp, index: rax, scale: 4, offset: -24),
      ], sizes: [4, 4]),
    // Blanks of every isspace kind, leading and trailing, and around '@'.
    Case(
      input: " \t-4@$1\n\n8@%rax\u{0B}\u{0C}\r\n4 @ %edx  ",
      expected: [.constant(1), .register(rax), .register(rdx)], sizes: [4, 8, 4]),
    Case(
      input: "4 @%eax 4@ %ebx -8 @ -20(%rbp)",
      expected: [.register(rax), .register(rbx), .memory(base: rbp, offset: -20)],
      sizes: [4, 4, 8]),
    Case(
      input: "8f@dd(%rip) 4f@%esi",
      expected: [.symbol(name: "dd", offset: 0), .register(reg("rsi", 104))], sizes: [8, 4]),
    Case(input: "", expected: [], sizes: []),
    Case(input: "   \t ", expected: [], sizes: []),
    Case(input: ":", expected: [], sizes: []),
    Case(input: ":anything -4@$1", expected: [], sizes: []),
  ])
  func splits(_ c: Case) throws {
    let specs = try ArgumentParsing.parse(c.input, architecture: .x86_64)
    #expect(specs.map(\.operand) == c.expected)
    #expect(specs.map(\.size) == c.sizes)
  }

  /// Argument strings clang wrote for foreign targets (`Fixtures/elf/*-lld.so.readelf`).
  @Test("notes measured for each foreign target decode", arguments: [
    (Architecture.aarch64, "-4@[x11] -8@[x10] 1@[x8]",
     [Operand.memory(base: reg("x11", 88), offset: 0), .memory(base: reg("x10", 80), offset: 0),
      .memory(base: reg("x8", 64), offset: 0)]),
    (.arm, "-4@[r3] -4@[lr] 1@[r12]",
     [.memory(base: reg("r3", 12), offset: 0), .memory(base: reg("lr", 56), offset: 0),
      .memory(base: reg("ip", 48), offset: 0)]),
    (.ppc, "-4@0(4) -4@0(8) 1@0(7)",
     [.memory(base: reg("r4", 16), offset: 0), .memory(base: reg("r8", 32), offset: 0),
      .memory(base: reg("r7", 28), offset: 0)]),
    (.s390x, "-4@164(%r15) -8@168(%r15) 1@162(%r15)",
     [.memory(base: reg("r15", 144), offset: 164), .memory(base: reg("r15", 144), offset: 168),
      .memory(base: reg("r15", 144), offset: 162)]),
  ])
  func foreignNotes(_ architecture: Architecture, _ input: String, _ expected: [Operand]) throws {
    let specs = try ArgumentParsing.parse(input, architecture: architecture)
    #expect(specs.map(\.operand) == expected)
    #expect(specs.map(\.size) == [4, input.contains("-8@") ? 8 : 4, 1])
  }

  @Test("usdt12-like: exactly 12 arguments with the selftest's sizes")
  func twelve() throws {
    let input =
      "-4@$1 -4@%edi 8@%rsi -8@-8(%rbp) -4@-12(%rbp) 8@(%rax) -8@(%rdx,%rax,8) 8@gvar(%rip) "
      + "-4@$-9 2@%cx -2@-40(%rsp) 1@%sil"
    let specs = try ArgumentParsing.parse(input, architecture: .x86_64)
    #expect(specs.map(\.size) == [4, 4, 8, 8, 4, 8, 8, 8, 4, 2, 2, 1])
  }

  @Test("a 13th argument is refused, naming it")
  func thirteen() {
    let input = (1...13).map { "-4@$\($0)" }.joined(separator: " ")
    let error = #expect(throws: USDTError.self) {
      try ArgumentParsing.parse(input, architecture: .x86_64)
    }
    #expect(error?.kind == .unsupportedOperand)
    #expect(error?.argument == 12)
    #expect(error?.input == "-4@$13")
    #expect(error?.message.contains("more than 12 arguments") == true)
  }

  @Test("an earlier bad argument is reported before the count, as in libbpf")
  func firstFailureWins() {
    let input = "-4@%xmm0 " + (1...12).map { "-4@$\($0)" }.joined(separator: " ")
    let error = #expect(throws: USDTError.self) {
      try ArgumentParsing.parse(input, architecture: .x86_64)
    }
    #expect(error?.kind == .unknownRegister)
    #expect(error?.argument == 0)
  }

  struct Failure: Sendable, CustomTestStringConvertible {
    var input: String
    var kind: USDTError.Kind
    var argument: Int
    var token: String
    var testDescription: String { input.debugDescription }
  }

  @Test("errors name the argument's index and its text", arguments: [
    Failure(input: "-4@$1 8@%rax -4@%ah", kind: .unsupportedOperand, argument: 2, token: "-4@%ah"),
    Failure(input: "-4@$1   3@%eax 8@%rax", kind: .unsupportedOperand, argument: 1, token: "3@%eax"),
    Failure(input: "8@%rax 4 @ %EAX", kind: .unknownRegister, argument: 1, token: "4 @ %EAX"),
    // Reference row 45: blanks inside the operand stay with their argument and are refused there.
    Failure(
      input: "-4@ -20 ( %rbp ) 8@%rax", kind: .unsupportedOperand, argument: 0,
      token: "-4@ -20 ( %rbp )"),
    // A word that does not start an argument belongs to the one before it.
    Failure(input: "-4@$1 junk 8@%rax", kind: .unsupportedOperand, argument: 0, token: "-4@$1 junk"),
    Failure(input: "junk -4@$1", kind: .unsupportedOperand, argument: 0, token: "junk"),
    Failure(input: "-4@$1 8@", kind: .unsupportedOperand, argument: 1, token: "8@"),
    Failure(input: "-4@$1 -4@-20(%rbp", kind: .unsupportedOperand, argument: 1, token: "-4@-20(%rbp"),
  ])
  func failures(_ f: Failure) {
    let error = #expect(throws: USDTError.self) {
      try ArgumentParsing.parse(f.input, architecture: .x86_64)
    }
    #expect(error?.kind == f.kind)
    #expect(error?.argument == f.argument)
    #expect(error?.input == f.token)
  }

  @Test("parseArgument records the index it is given")
  func index() {
    let error = #expect(throws: USDTError.self) {
      try ArgumentParsing.parseArgument("16@%rax", architecture: .x86_64, index: 7)
    }
    #expect(error?.kind == .unsupportedOperand)
    #expect(error?.argument == 7)
    #expect(error?.input == "16@%rax")
  }

  @Test("architectures without a grammar refuse arguments but allow none", arguments: [Architecture.mips])
  func unsupportedArchitecture(_ architecture: Architecture) throws {
    #expect(try ArgumentParsing.parse("", architecture: architecture).isEmpty)
    let error = #expect(throws: USDTError.self) {
      try ArgumentParsing.parse("-4@42", architecture: architecture)
    }
    #expect(error?.kind == .unsupportedArchitecture)
    #expect(error?.argument == 0)
  }

  /// 32-bit targets: an 8-byte value named by one register is half of a register pair.
  @Test("an 8-byte register operand on a 32-bit target is refused, naming the argument", arguments: [
    (Architecture.i386, "-4@$1 -8@%eax"), (.i386, "-4@$1 8f@%edx"), (.arm, "-4@#1 -8@r4"),
    (.arm, "-4@#1 8@fp"), (.riscv32, "-4@1 -8@a1"), (.ppc, "-4@i1 8@3"),
  ])
  func registerPair(_ architecture: Architecture, _ input: String) {
    let error = #expect(throws: USDTError.self) {
      try ArgumentParsing.parse(input, architecture: architecture)
    }
    #expect(error?.kind == .unsupportedOperand)
    #expect(error?.argument == 1)
    #expect(error?.message.contains("register pair") == true, "\(error?.message ?? "")")
  }

  @Test("on 32-bit targets 8-byte memory and constants stay whole", arguments: [
    (Architecture.i386, "-8@-16(%ebp)"), (.i386, "-8@$-1"), (.arm, "8f@[r1]"), (.arm, "-8@#-1"),
    (.riscv32, "-8@-24(s0)"), (.ppc, "-8@8(31)"), (.x86_64, "-8@%rax"), (.riscv64, "-8@a1"),
  ])
  func wholeValues(_ architecture: Architecture, _ input: String) throws {
    let specs = try ArgumentParsing.parse(input, architecture: architecture)
    #expect(specs.map(\.size) == [8])
  }

  /// Parsing untrusted note text never traps: every prefix, suffix and one-character deletion of
  /// every fixture input either parses or throws, for every architecture's grammar.
  @Test("mangled inputs never trap")
  func neverTraps() throws {
    var inputs: [String] = []
    for file in ArgumentFixture.files { inputs += try ArgumentFixture.rows(file).map(\.input) }
    inputs += ["@", "-", "+", "f", "$", "%", "(", ")", ",", "-@", "4@(", "4@)", "4@(,,)", "4@(,%rax)",
               "4@-", "4@+", "4@$-", "4@$+", "4@0x", "4@-0x", "4@sym+", "4@+sym", "4@@", "4@%:",
               "4@[", "4@]", "4@[,]", "4@[x0,", "4@#", "4@#:", "4@[x0, #:lo12:]", "4@%lo(", "4@%lo()(a0)",
               "4@i", "4@,", "4@$", "4@$r3,", "4@,16", "4@[x0, x1, lsl]", "4@[r0, r1, lsl #]"]
    for architecture in Architecture.allCases {
      for input in inputs {
        let characters = Array(input)
        for cut in 0...characters.count {
          _ = try? ArgumentParsing.parse(String(characters[..<cut]), architecture: architecture)
          _ = try? ArgumentParsing.parse(String(characters[cut...]), architecture: architecture)
          if cut < characters.count {
            var deleted = characters
            deleted.remove(at: cut)
            _ = try? ArgumentParsing.parse(String(deleted), architecture: architecture)
          }
        }
      }
    }
  }
}
