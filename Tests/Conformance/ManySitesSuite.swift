import Foundation
import Testing
import USDT

extension Conformance {
  /// Mirror of the kernel selftest `bench_usdt` (prog_tests/uprobe_multi_test.c): one probe
  /// with 50,000 sites, attached for every process in one uprobe_multi link, each site fired
  /// once, exactly 50,000 hits; after detach, firing again counts 0.
  ///
  /// Goes further: asserts that one attach holds one spec for the 50,000 sites and one link fd,
  /// and that nothing is left after detach. (The per-site backends would need 50,000 perf
  /// events and about 0.1 s per close; they are measured by `make bench` up to 1,000 sites.)
  @Suite("many sites (selftest bench_usdt)", .serialized, .timeLimit(.minutes(2)))
  struct ManySitesSuite {
    @Test("50,000 sites in one link")
    func fiftyThousandSites() throws {
      let path = try TestTargets.path("manysites")
      let recorder = try Recorder(.multi)
      let clean = Cleanliness(recorder.object)
      let child = try TargetProcess(path)
      let before = Cleanliness.kernelObjectFDs()
      let link = try recorder.program("record_a").attach(to: .init(binary: path, provider: "test", name: "usdt"))
      #expect(link.siteCount == 50_000)
      #expect(link.specIDs.count == 1)
      #expect(Cleanliness.kernelObjectFDs()["anon_inode:bpf_link", default: 0] == before["anon_inode:bpf_link", default: 0] + 1)
      try child.fire(0)
      #expect(try recorder.totalHits() == 50_000)
      #expect(Set(try recorder.hits(pid: child.pid).map(\.ip)).count == 50_000, "every site fired once")
      link.detach()
      try recorder.reset()
      try child.fire(1)
      #expect(try recorder.totalHits() == 0)
      clean.verify()
      #expect(child.finish() == 0)
    }
  }
}
