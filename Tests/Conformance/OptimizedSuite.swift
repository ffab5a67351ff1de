import Foundation
import Testing
import USDT

extension Conformance {
  /// Mirror of the kernel selftest `usdt` subtests `optimized_attach` / `basic_optimized`
  /// (x86-64), in the variant for this kernel generation.
  ///
  /// A probe on a plain `nop` gets an int3 (`0xcc` at the site); a `nop; nop5` site on a kernel
  /// whose uprobe syscall answers ENXIO gets its uprobe one byte on, which the kernel rewrites
  /// into a `call` (`0xe8`) after the first hit, and `ctx->ip` is the site + 1. Goes further: a
  /// `nop; nop10` site is *not* shifted on such a kernel (a uprobe there would never fire), the
  /// arguments decode on all three, and every byte is restored after detach.
  @Suite("optimized nop sites (selftest usdt/optimized_attach)", .serialized, .timeLimit(.minutes(1)))
  struct OptimizedSuite {
    @Test("nop, nop; nop5, nop; nop10", arguments: [AttachMode.multi, .perfEvent])
    func placements(mode: AttachMode) throws {
      let path = try TestTargets.path("optimized")
      let recorder = try Recorder(mode)
      let clean = Cleanliness(recorder.object)
      let child = try TargetProcess(path)
      let addresses = try ["nop1", "nop5", "nop10"].map { try #require(child.address($0)) }
      let optimization = KernelFeatures.nopOptimization
      #expect(optimization != .unavailable, "x86-64 kernels since 6.18 have the uprobe syscall")

      let links = try zip(["record_a", "record_b", "record_c"], ["nop1", "nop5", "nop10"]).map { program, name in
        try recorder.program(program).attach(to: .init(binary: path, provider: "optimized", name: name), in: .process(child.pid))
      }
      let notePCs = try ["nop1", "nop5", "nop10"].map { name in
        try #require(ProbeList(path: path).sites(provider: "optimized", name: name).first?.address)
      }
      let expectedShift: [UInt64] = [0, optimization == .nop5 ? 1 : 0, 0]
      #expect(links.map { $0.siteAddresses[0] } == zip(notePCs, expectedShift).map { $0 + $1 })

      try child.fire(1)
      try child.fire(2)
      let hits = try recorder.hits(pid: child.pid)
      for program in 0..<3 {
        let seen = hits.filter { $0.program == UInt32(program) }
        #expect(seen.count == 2, "probe \(program) fired twice")
        #expect(seen.allSatisfy { $0.ip == addresses[program] + expectedShift[program] }, "ctx->ip is where the uprobe sits")
        #expect(seen.map { [$0.signed(0), $0.signed(1)] } == [[1, 1001], [2, 1002]])
      }
      let nop1 = try ProcessMemory.read(pid: child.pid, address: addresses[0], count: 1)
      #expect(nop1 == [0xcc], "int3 on a plain nop")
      if optimization == .nop5 {
        let nop5 = try ProcessMemory.read(pid: child.pid, address: addresses[1], count: 2)
        #expect(nop5 == [0x90, 0xe8], "the nop5 became a call; the note's nop is untouched")
        let nop10 = try ProcessMemory.read(pid: child.pid, address: addresses[2], count: 1)
        #expect(nop10 == [0xcc], "nop10 is not optimized on a nop5-era kernel: int3 on the nop")
      }

      links.forEach { $0.detach() }
      #expect(try ProcessMemory.read(pid: child.pid, address: addresses[0], count: 1) == [0x90])
      #expect(try ProcessMemory.read(pid: child.pid, address: addresses[1], count: 6) == [0x90, 0x0f, 0x1f, 0x44, 0x00, 0x00])
      #expect(try ProcessMemory.read(pid: child.pid, address: addresses[2], count: 11) == [0x90, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0])
      clean.verify()
      #expect(child.finish() == 0)
    }
  }
}
