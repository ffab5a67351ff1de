import Foundation
import Testing
import USDT

extension Conformance {
  /// Mirror of the kernel selftest `usdt` subtests `urand_auto_attach` and `urand_pid_attach`
  /// (prog_tests/usdt.c, progs/test_urandom_usdt.c, urandom_read.c).
  ///
  /// Same four probes (two in the executable, two in a shared library, one of each with a
  /// semaphore), same arguments (iteration, count, 256), same "each seen exactly once" checks.
  /// Goes further: both a clang + lld `-z noseparate-code` build (virtual address ≠ file offset)
  /// and a gcc + GNU ld build; the library's and the executable's semaphores are read in the
  /// child's memory while attached and after detach; a bare `SEC("usdt")` program must not be
  /// auto-attached; without cookies, auto-attach for every process is refused as libbpf does
  /// and then works for one pid; nothing is left behind.
  @Suite("urandom (selftest usdt/urand_*)", .serialized, .timeLimit(.minutes(2)))
  struct URandomSuite {
    static let toolchains = ["clang", "gcc"]

    /// (program index in the hit, file, provider, name), in the order of the selftest's programs.
    static func probes(_ toolchain: String) throws -> [(UInt32, ProbeSelector)] {
      let exe = try TestTargets.path("urandom_read-\(toolchain)")
      let lib = try TestTargets.path("libsharedprobes-\(toolchain).so")
      return [
        (0, .init(binary: exe, provider: "urand", name: "read_without_sema")),
        (1, .init(binary: exe, provider: "urand", name: "read_with_sema")),
        (2, .init(binary: lib, provider: "urandlib", name: "read_without_sema")),
        (3, .init(binary: lib, provider: "urandlib", name: "read_with_sema")),
      ]
    }

    @Test("auto-attach from section names", arguments: AttachMode.allCases, toolchains)
    func autoAttach(mode: AttachMode, toolchain: String) throws {
      let probes = try Self.probes(toolchain)
      let recorder = try Recorder(mode, object: "autoattach-\(toolchain)")
      let clean = Cleanliness(recorder.object)
      let child = try TargetProcess(probes[0].1.binary)

      var links: [ProbeLink]
      if mode == .noCookie {
        let error = try #require(throws: USDTError.self) { try recorder.object.attachAutomatically() }
        #expect(error.kind == .kernelLacks("BPF cookie"))
        #expect(recorder.object.specIDsInUse == 0, "the partial auto-attach was rolled back")
        links = try recorder.object.attachAutomatically(in: .process(child.pid))
      } else {
        links = try recorder.object.attachAutomatically()
      }
      #expect(Set(links.map(\.probe)) == Set(probes.map(\.1)), "the four usdt/… programs, not the bare SEC(\"usdt\") one")
      try checkRun(child: child, recorder: recorder, probes: probes)
      links.forEach { $0.detach() }
      links = []
      try checkSemaphores(child: child, probes: probes, attached: false)
      clean.verify()
      #expect(child.finish() == 0)
    }

    @Test("attach to one pid", arguments: AttachMode.allCases, toolchains)
    func pidAttach(mode: AttachMode, toolchain: String) throws {
      let probes = try Self.probes(toolchain)
      let recorder = try Recorder(mode)
      let clean = Cleanliness(recorder.object)
      let child = try TargetProcess(probes[0].1.binary)
      let programs = ["record_a", "record_b", "record_c", "record_d"]
      var links = try zip(programs, probes).map { program, probe in
        try recorder.program(program).attach(to: probe.1, in: .process(child.pid))
      }
      try checkRun(child: child, recorder: recorder, probes: probes)
      links.forEach { $0.detach() }
      links = []
      try checkSemaphores(child: child, probes: probes, attached: false)
      clean.verify()
      #expect(child.finish() == 0)
    }

    /// Semaphores counted, one iteration fired, each probe seen exactly once with (0, 1, 256).
    private func checkRun(child: TargetProcess, recorder: Recorder, probes: [(UInt32, ProbeSelector)]) throws {
      try checkSemaphores(child: child, probes: probes, attached: true)
      try child.fire(0)
      let hits = try recorder.hits(pid: child.pid)
      for (program, probe) in probes {
        let seen = hits.filter { $0.program == program }
        #expect(seen.count == 1, "\(probe.qualifiedName) seen once")
        if let hit = seen.first {
          #expect(hit.argCount == 3)
          #expect(hit.arguments[0..<3] == [0, 1, 256], "\(probe.qualifiedName): iteration, count, buffer size")
          #expect(hit.cookie == 0)
        }
      }
      #expect(hits.count == probes.count, "no other program fired")
    }

    private func checkSemaphores(child: TargetProcess, probes: [(UInt32, ProbeSelector)], attached: Bool) throws {
      for (_, probe) in probes where probe.name == "read_with_sema" {
        let value = try semaphore(probe.provider, probe.name, in: probe.binary, pid: child.pid)
        #expect(attached ? value > 0 : value == 0, "\(probe.qualifiedName) semaphore \(attached ? "counted" : "released")")
      }
    }
  }
}
