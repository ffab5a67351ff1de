import Foundation
import Testing
import USDT

extension Conformance {
  /// Mirror of the kernel selftest `usdt` subtest `multispec` (prog_tests/usdt.c,
  /// progs/test_usdt_multispec.c).
  ///
  /// Same numbers: 100 sites with distinct constants (sum 4950) attached, detached and
  /// re-attached three times (100, 200, 300 calls, 4950 each round); 301 distinct specs fail
  /// with "spec map full" (E2BIG) and leave nothing attached (firing the sites counts 0); 400
  /// sites of one spec give 400 calls summing to 160000. Goes further: asserts the spec IDs
  /// themselves (100 distinct, reused from the free list on re-attach, all returned after the
  /// failed attach, one for 400 sites) and runs without cookies too (the perf-event backend is
  /// covered by the other suites: it needs one slow close per site, about 0.1 s each here).
  @Suite("multispec (selftest usdt/multispec)", .serialized, .timeLimit(.minutes(3)))
  struct MultiSpecSuite {
    @Test("100, 300 and 400 sites", arguments: [AttachMode.multi, .noCookie])
    func multispec(mode: AttachMode) throws {
      let path = try TestTargets.path("multispec")
      let recorder = try Recorder(mode)
      let clean = Cleanliness(recorder.object)
      let child = try TargetProcess(path)
      let target = mode.everyProcessOrOnly(child.pid)
      func probe(_ name: String) -> ProbeSelector { .init(binary: path, provider: "test", name: name) }
      func sum(_ hits: some Collection<Recorder.Hit>) -> Int64 { hits.reduce(0) { $0 + $1.signed(0) } }

      var link = try recorder.program("record_a").attach(to: probe("usdt_100"), in: target)
      #expect(link.siteCount == 100)
      #expect(Set(link.specIDs) == Set(0..<100), "100 distinct strings, 100 new IDs")
      let firstIDs = Set(link.specIDs)
      try child.run("fire100", expecting: "fired100")
      var hits = try recorder.hits(pid: child.pid)
      #expect(hits.count == 100)
      #expect(sum(hits) == 4950)

      for round in 2...3 {
        link.detach()
        link = try recorder.program("record_a").attach(to: probe("usdt_100"), in: target)
        #expect(Set(link.specIDs) == firstIDs, "round \(round): the IDs come back from the free list")
        try child.run("fire100", expecting: "fired100")
        hits = try recorder.hits(pid: child.pid)
        #expect(hits.count == 100 * round)
        #expect(sum(hits.suffix(100)) == 4950)
      }
      link.detach()
      try recorder.reset()

      let error = try #require(throws: USDTError.self) {
        try recorder.program("record_a").attach(to: probe("usdt_300"), in: target)
      }
      #expect(error.kind == .specMapFull)
      #expect(error.errno == .argListTooLong)
      #expect(error.hint?.contains("specCapacity") == true, "the error says how to raise the limit")
      #expect(recorder.object.specIDsInUse == 0, "the failed attach returned every ID")
      try child.run("fire300var 777", expecting: "fired300var 777")
      try child.run("fire300", expecting: "fired300")
      #expect(try recorder.totalHits() == 0, "no uprobe was left by the failed attach")

      link = try recorder.program("record_a").attach(to: probe("usdt_400"), in: target)
      #expect(link.siteCount == 400)
      #expect(link.specIDs.count == 1, "400 sites, one argument string, one spec")
      try child.run("fire400", expecting: "fired400")
      hits = try recorder.hits(pid: child.pid)
      #expect(hits.count == 400)
      #expect(sum(hits) == 160_000)
      link.detach()
      clean.verify()
      #expect(child.finish() == 0)
    }

    /// The 256-spec ceiling is libbpf's default, not a law: a larger spec map takes all 301.
    @Test("a larger spec map takes 301 specs")
    func largerSpecMap() throws {
      let path = try TestTargets.path("multispec")
      let recorder = try Recorder(.multi, specCapacity: 512)
      let clean = Cleanliness(recorder.object)
      let child = try TargetProcess(path)
      let link = try recorder.program("record_a").attach(to: .init(binary: path, provider: "test", name: "usdt_300"))
      #expect(link.specIDs.count == 301)
      try child.run("fire300", expecting: "fired300")
      try child.run("fire300var 777", expecting: "fired300var 777")
      let hits = try recorder.hits(pid: child.pid)
      #expect(hits.count == 301)
      #expect(hits.reduce(0) { $0 + $1.signed(0) } == 44_850 + 777)
      link.detach()
      clean.verify()
      #expect(child.finish() == 0)
    }
  }
}
