import Foundation
import Testing
import USDT

extension Conformance {
  /// Mirror of the kernel selftest `usdt` subtest `basic` (tools/testing/selftests/bpf/prog_tests/usdt.c).
  ///
  /// Same probes, values, sizes and cookies as the selftest: test:usdt0 (no arguments),
  /// test:usdt3 and test:usdt12, each with two sites and gated on a semaphore. Goes further:
  /// the traced program is a separate process built by gcc and by clang; one attach is
  /// pid-filtered and two cover every process; both sites of each probe are seen; the
  /// semaphores are read in the target's memory while attached and after detach; the fd count
  /// and the object's spec IDs must return to where they were.
  @Suite("basic (selftest usdt/basic)", .serialized, .timeLimit(.minutes(1)))
  struct BasicSuite {
    static let cookie0: UInt64 = 0xcafe_dead_beef_feed
    static let cookie3: UInt64 = 0xBA_DC00_C51E
    static let bla: UInt64 = 0xFEDC_BA98_7654_3210
    static let nums: [Int64] = [-1, -2, -3, -4]
    static let enoent: Int64 = -2

    @Test(
      "attach, decode, re-attach with a new cookie, detach",
      arguments: AttachMode.allCases, ["basic-gcc-O0", "basic-clang-O2"])
    func basic(mode: AttachMode, build: String) throws {
      let path = try TestTargets.path(build)
      let recorder = try Recorder(mode)
      #expect(recorder.object.specLookup == (mode == .noCookie ? .ipMap : .cookie))
      #expect(recorder.object.backend == (mode == .multi ? .uprobeMulti : .perfEvent))
      let child = try TargetProcess(path)
      let bla = try #require(child.address("bla"))
      let probes = try ProbeList(path: path)
      let clean = Cleanliness(recorder.object)

      let usdt0 = try recorder.program("record_a").attach(
        to: .init(binary: path, provider: "test", name: "usdt0"), in: .process(child.pid),
        cookie: Self.cookie0)
      var usdt3: ProbeLink? = try recorder.program("record_b").attach(
        to: .init(binary: path, provider: "test", name: "usdt3"), in: .process(child.pid))
      let usdt12 = try recorder.program("record_c").attach(
        to: .init(binary: path, provider: "test", name: "usdt12"), in: mode.everyProcessOrOnly(child.pid))

      #expect(usdt0.siteCount == 2 && usdt3?.siteCount == 2 && usdt12.siteCount == 2)
      // One spec per distinct argument string: both sites of usdt3 share one.
      #expect(usdt3?.specIDs.count == Set(probes.sites(provider: "test", name: "usdt3").map(\.note.arguments)).count)
      for name in ["usdt0", "usdt3", "usdt12"] {
        #expect(try semaphore("test", name, in: path, pid: child.pid) > 0, "semaphore of \(name) counted while attached")
      }

      // Step 3 of the selftest: x = 1 (site A).
      try child.fire(1)
      var hits = try recorder.hits(pid: child.pid)
      #expect(hits.count == 3)
      let h0 = try #require(hits.first { $0.program == 0 })
      #expect(h0.cookie == Self.cookie0)
      #expect(h0.argCount == 0)
      #expect(h0.returns[0] == Self.enoent && h0.sizes[0] == Int32(Self.enoent))

      let h3 = try #require(hits.first { $0.program == 1 })
      #expect(h3.cookie == 0)
      #expect(h3.argCount == 3)
      #expect(h3.returns[0..<3] == [0, 0, 0])
      #expect([h3.signed(0), h3.signed(1), Int64(bitPattern: h3.arguments[2])] == [1, 42, Int64(bitPattern: bla)])
      #expect(h3.sizes[0..<3] == [4, 8, 8])

      let h12 = try #require(hits.first { $0.program == 2 })
      #expect(h12.cookie == 0)
      #expect(h12.argCount == 12)
      #expect(h12.returns == Array(repeating: 0, count: 12))
      #expect(h12.arguments.map { Int64(bitPattern: $0) } == expected12(x: 1, bla: bla))
      #expect(h12.sizes == [4, 4, 8, 8, 4, 8, 8, 8, 4, 2, 2, 1])

      // Step 4: x = 2 (site B).
      try recorder.reset()
      try child.fire(2)
      hits = try recorder.hits(pid: child.pid)
      #expect(hits.count == 3)
      let b3 = try #require(hits.first { $0.program == 1 })
      let b12 = try #require(hits.first { $0.program == 2 })
      #expect(b3.signed(0) == 2)
      #expect(b12.arguments.map { Int64(bitPattern: $0) } == expected12(x: 2, bla: bla))
      #expect(b3.ip != h3.ip, "the second site of usdt3 fired")

      // Step 5–6: re-attach usdt3 for every process with cookie 0xBADC00C51E.
      usdt3?.detach()
      usdt3 = try recorder.program("record_b").attach(
        to: .init(binary: path, provider: "test", name: "usdt3"), in: mode.everyProcessOrOnly(child.pid),
        cookie: Self.cookie3)
      try recorder.reset()
      try child.fire(3)
      let r3 = try #require(try recorder.hits(pid: child.pid).first { $0.program == 1 })
      #expect(r3.cookie == Self.cookie3)
      #expect(r3.argCount == 3)
      #expect(r3.returns[0..<3] == [0, 0, 0])
      #expect([r3.signed(0), r3.signed(1), Int64(bitPattern: r3.arguments[2])] == [3, 42, Int64(bitPattern: bla)])

      // Detach: semaphores back to 0, no more hits, nothing leaked.
      usdt0.detach()
      usdt3?.detach()
      usdt12.detach()
      usdt12.detach()  // a second detach does nothing
      for name in ["usdt0", "usdt3", "usdt12"] {
        #expect(try semaphore("test", name, in: path, pid: child.pid) == 0, "semaphore of \(name) released")
      }
      try recorder.reset()
      try child.fire(1)
      #expect(try recorder.totalHits() == 0)
      clean.verify()
      #expect(child.finish() == 0)
    }

    /// gcc -O2 reads `nums[idx]` through SIB and `t1.y` RIP-relative (`-1@4+t1(%rip)`), which
    /// libbpf 1.1.2 refuses for the whole probe. Here the probe attaches: `t1.y` is read through
    /// the symbol table, the SIB argument (which that header cannot express) alone reports an
    /// error, and every other argument decodes.
    @Test("gcc -O2: a symbol-relative argument decodes, an inexpressible one alone fails", arguments: AttachMode.allCases)
    func degradesPerArgument(mode: AttachMode) throws {
      let path = try TestTargets.path("basic-gcc-O2")
      let recorder = try Recorder(mode)
      let clean = Cleanliness(recorder.object)
      let child = try TargetProcess(path)
      let bla = try #require(child.address("bla"))
      let link = try recorder.program("record_c").attach(
        to: .init(binary: path, provider: "test", name: "usdt12"), in: .process(child.pid))
      #expect(link.unavailableArguments.map(\.argument) == [10])
      #expect(link.unavailableArguments.first?.kind == .unsupportedOperand)
      try child.fire(1)
      let hit = try #require(try recorder.hits(pid: child.pid).first)
      #expect(hit.argCount == 12)
      #expect(hit.returns[10] == -22, "EINVAL for the one argument the header cannot read")
      var expected = expected12(x: 1, bla: bla)
      expected[10] = 0
      #expect(hit.arguments.map { Int64(bitPattern: $0) } == expected)
      #expect(hit.returns.enumerated().allSatisfy { $0.offset == 10 || $0.element == 0 })
      link.detach()
      clean.verify()
      #expect(child.finish() == 0)
    }

    /// libbpf's all-or-nothing behaviour is one option away: the probe is refused, with the
    /// argument named, and nothing stays.
    @Test("strict mode refuses the probe cleanly", arguments: AttachMode.allCases)
    func refusesInexpressibleOperand(mode: AttachMode) throws {
      let path = try TestTargets.path("basic-gcc-O2")
      let recorder = try Recorder(mode, rejectsUnreadableArguments: true)
      let clean = Cleanliness(recorder.object)
      let error = try #require(throws: USDTError.self) {
        try recorder.program("record_c").attach(to: .init(binary: path, provider: "test", name: "usdt12"), in: .currentProcess)
      }
      #expect(error.kind == .unsupportedOperand)
      #expect(error.argument == 10)
      #expect(error.probe == "test:usdt12" && error.binary == path)
      clean.verify()
      // The other probes of the same file still attach.
      let child = try TargetProcess(path)
      let link = try recorder.program("record_b").attach(
        to: .init(binary: path, provider: "test", name: "usdt3"), in: .process(child.pid))
      #expect(link.siteCount == 2)
      #expect(child.finish() == 0)
    }

    /// libbpf refuses a PIE or shared library for every process without cookies (ENOTSUP):
    /// the IP differs per process. So do we, with the reason and what to do.
    @Test("without cookies, a PIE needs a pid")
    func noCookieNeedsPID() throws {
      let path = try TestTargets.path("basic-gcc-O0")
      let recorder = try Recorder(.noCookie)
      let error = try #require(throws: USDTError.self) {
        try recorder.program("record_a").attach(to: .init(binary: path, provider: "test", name: "usdt3"))
      }
      #expect(error.kind == .kernelLacks("BPF cookie"))
      #expect(error.errno == .notSupported)
      #expect(recorder.object.specIDsInUse == 0)
    }

    /// Without cookies, two links of one object on the same site collide in the IP map; libbpf
    /// returns EEXIST. The second attach fails cleanly and the first keeps working.
    @Test("without cookies, an IP collision is reported")
    func noCookieCollision() throws {
      let path = try TestTargets.path("basic-gcc-O0")
      let recorder = try Recorder(.noCookie)
      let child = try TargetProcess(path)
      let probe = ProbeSelector(binary: path, provider: "test", name: "usdt3")
      let first = try recorder.program("record_a").attach(to: probe, in: .process(child.pid))
      #expect(first.instructionPointers.count == 2)
      let error = try #require(throws: USDTError.self) {
        try recorder.program("record_b").attach(to: probe, in: .process(child.pid))
      }
      #expect(error.errno == .fileExists)
      #expect(error.description.contains("IP collision"))
      #expect(recorder.object.specIDsInUse == 1)
      try child.fire(1)
      #expect(try recorder.hits(pid: child.pid).map(\.program) == [0])
      first.detach()
      #expect(recorder.object.specIDsInUse == 0)
      #expect(child.finish() == 0)
    }

    @Test("a missing probe is a typed error")
    func missingProbe() throws {
      let path = try TestTargets.path("basic-gcc-O0")
      let recorder = try Recorder()
      let error = try #require(throws: USDTError.self) {
        try recorder.program("record_a").attach(to: .init(binary: path, provider: "test", name: "nope"))
      }
      #expect(error.kind == .probeNotFound)
      #expect(error.description.contains("test:nope"))
    }

    private func expected12(x: Int64, bla: UInt64) -> [Int64] {
      [x, x + 1, 42, 42 + x, 5, 6, Int64(bitPattern: Self.bla), Int64(bitPattern: bla), -9,
       Self.nums[Int(x)], Self.nums[2], -127]
    }
  }
}
