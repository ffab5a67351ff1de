/// Turns symbol-relative operands (`gvar(%rip)`, `4+t1(%rip)`) into something a uprobe can read.
///
/// At the probe, `ctx->ip` is the address the uprobe sits on, in whatever process and at
/// whatever load address. So "the symbol's address" is `ip + (symbol + offset − site address)`,
/// computed from link-time values alone: a dereference of the `rip` slot, which every
/// usdt.bpf.h (libbpf's included) can read. The displacement depends on the site, so such specs
/// are not shared between sites.
struct SymbolResolver {
  private let table: Result<SymbolTable, USDTError>
  private let architecture: Architecture?

  init(file: ELFFile) {
    table = Result { () throws(USDTError) in try file.symbolTable() }
    architecture = file.architecture
  }

  /// `arguments` with each `.symbol` operand rewritten for a probe at `siteAddress`, or marked
  /// unavailable with the reason when the symbol cannot be found or the architecture has no
  /// instruction-pointer slot to read it through.
  func resolve(_ arguments: [ArgumentSpec], at siteAddress: UInt64) -> [ArgumentSpec] {
    arguments.map { argument in
      guard case .symbol(let name, let offset) = argument.operand else { return argument }
      var resolved = argument
      do throws(USDTError) {
        guard architecture == .x86_64, let rip = X86.registers["rip"] else {
          throw USDTError(
            .unsupportedOperand,
            "symbol-relative operands are read through the instruction pointer only on x86-64")
        }
        let address = try table.get().address(of: name)
        let target = address &+ UInt64(bitPattern: offset)
        resolved.operand = .memory(base: rip, offset: Int64(bitPattern: target &- siteAddress))
      } catch {
        resolved.operand = .unavailable(reason: error.message)
      }
      return resolved
    }
  }
}

extension Operand {
  var isSymbol: Bool {
    if case .symbol = self { return true }
    return false
  }
}
