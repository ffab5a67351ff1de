import Foundation
import Testing
import USDT

extension Conformance {
  /// Spec reuse across processes and shared libraries, which the kernel selftests leave out.
  ///
  /// One attach by path covers every process that maps the file, each site reading its own
  /// spec and each process its own values: two processes of one executable, and two different
  /// executables loading one shared library. Attaching to the library for every process and
  /// for one pid both work. A second attach of the same probe in one object gets its own spec
  /// IDs and its own cookie. Without cookies, a position-independent file is attached per
  /// process (its IPs differ), and a second attach of the same site collides as in libbpf.
  @Suite("spec reuse across processes and libraries", .serialized, .timeLimit(.minutes(1)))
  struct SpecReuseSuite {
    @Test("two processes of one executable, one attach", arguments: AttachMode.allCases)
    func twoProcesses(mode: AttachMode) throws {
      let path = try TestTargets.path("urandom_read-gcc")
      let probe = ProbeSelector(binary: path, provider: "urand", name: "read_with_sema")
      let recorder = try Recorder(mode)
      let clean = Cleanliness(recorder.object)
      let first = try TargetProcess(path)
      let second = try TargetProcess(path)
      var links: [ProbeLink] = []
      if mode == .noCookie {
        links = try [first, second].map { try recorder.program("record_a").attach(to: probe, in: .process($0.pid)) }
        #expect(links[0].instructionPointers != links[1].instructionPointers, "a PIE sits at a different address in each process")
      } else {
        links = [try recorder.program("record_a").attach(to: probe)]
      }
      try first.fire(5)
      try second.fire(7)
      #expect(try recorder.hits(pid: first.pid).map { $0.signed(0) } == [5])
      #expect(try recorder.hits(pid: second.pid).map { $0.signed(0) } == [7])
      for process in [first, second] {
        #expect(try semaphore("urand", "read_with_sema", in: path, pid: process.pid) > 0)
      }
      links.forEach { $0.detach() }
      for process in [first, second] {
        #expect(try semaphore("urand", "read_with_sema", in: path, pid: process.pid) == 0)
      }
      clean.verify()
      #expect(first.finish() == 0 && second.finish() == 0)
    }

    @Test("two executables, one shared library", arguments: AttachMode.allCases, ["clang", "gcc"])
    func twoExecutablesOneLibrary(mode: AttachMode, toolchain: String) throws {
      let library = try TestTargets.path("libsharedprobes-\(toolchain).so")
      let probe = ProbeSelector(binary: library, provider: "urandlib", name: "read_with_sema")
      let recorder = try Recorder(mode)
      let clean = Cleanliness(recorder.object)
      let reader = try TargetProcess(TestTargets.path("urandom_read-\(toolchain)"))
      let user = try TargetProcess(TestTargets.path("sharedlib_user-\(toolchain)"))
      #expect(reader.ready["lib"] == user.ready["lib"], "both map the same library file")

      if mode != .noCookie {
        // The library for every process: both executables are seen.
        let all = try recorder.program("record_a").attach(to: probe, cookie: 1)
        try reader.fire(3)
        try user.fire(4)
        #expect(try recorder.hits(pid: reader.pid).map { $0.signed(0) } == [3])
        #expect(try recorder.hits(pid: user.pid).map { $0.signed(0) } == [4])
        #expect(try recorder.hits().allSatisfy { $0.cookie == 1 })
        all.detach()
        try recorder.reset()
      } else {
        let error = try #require(throws: USDTError.self) { try recorder.program("record_a").attach(to: probe) }
        #expect(error.kind == .kernelLacks("BPF cookie"), "libbpf refuses a library for every process without cookies")
      }

      // The library for one pid: only that process is seen.
      let one = try recorder.program("record_b").attach(to: probe, in: .process(user.pid), cookie: 2)
      #expect(try semaphore("urandlib", "read_with_sema", in: library, pid: user.pid) > 0)
      try reader.fire(5)
      try user.fire(6)
      let hits = try recorder.hits()
      #expect(hits.map(\.pid) == [user.pid])
      #expect(hits.first?.signed(0) == 6 && hits.first?.cookie == 2)
      one.detach()
      #expect(try semaphore("urandlib", "read_with_sema", in: library, pid: user.pid) == 0)
      clean.verify()
      #expect(reader.finish() == 0 && user.finish() == 0)
    }

    @Test("a second attach of one probe has its own specs and cookie", arguments: [AttachMode.multi, .perfEvent])
    func secondAttach(mode: AttachMode) throws {
      let path = try TestTargets.path("basic-gcc-O0")
      let probe = ProbeSelector(binary: path, provider: "test", name: "usdt3")
      let recorder = try Recorder(mode)
      let clean = Cleanliness(recorder.object)
      let child = try TargetProcess(path)
      let first = try recorder.program("record_a").attach(to: probe, cookie: 0xA)
      let second = try recorder.program("record_b").attach(to: probe, cookie: 0xB)
      #expect(Set(first.specIDs).isDisjoint(with: second.specIDs), "IDs are never shared between links")
      try child.fire(1)
      let hits = try recorder.hits(pid: child.pid)
      #expect(Set(hits.map { [UInt64($0.program), $0.cookie] }) == [[0, 0xA], [1, 0xB]])
      #expect(hits.allSatisfy { $0.signed(0) == 1 && $0.signed(1) == 42 })
      first.detach()
      second.detach()
      clean.verify()
      #expect(child.finish() == 0)
    }
  }
}
