import Foundation
import Testing
import USDT

extension Conformance {
  /// Mirror of the pid-filter part of the kernel selftest `uprobe_multi_test`
  /// (`attach_api_pattern`/`attach_api_syms` with `pid_filter_usdt`).
  ///
  /// The parent, a forked child and a child thread hit one probe; a link for the child's pid
  /// sees only the child; a link for every process sees every hit. Goes further: asserts thread
  /// vs process semantics directly (a pid filter covers every thread of that process, which
  /// the kernel fixed for uprobe_multi in 6.10), the exact tids, and runs in all three modes.
  /// Each link gets its own BPF object, since without cookies one object can attach a site once.
  @Suite("pid filter (selftest uprobe_multi_test pid_filter_usdt)", .serialized, .timeLimit(.minutes(1)))
  struct PIDFilterSuite {
    @Test("a child process", arguments: AttachMode.allCases)
    func childProcess(mode: AttachMode) throws {
      let path = try TestTargets.path("pidfilter")
      let probe = ProbeSelector(binary: path, provider: "test", name: "pid_filter_usdt")
      let parent = try TargetProcess(path)
      let filtered = try Recorder(mode)
      let everyone = try Recorder(mode)
      let cleanFiltered = Cleanliness(filtered.object)
      let cleanEveryone = Cleanliness(everyone.object)

      let reply = try parent.run("spawn-process", expecting: "child pid=")
      let child = try #require(TargetProcess.value("pid", in: reply))
      #expect(child != parent.pid)
      let childLink = try filtered.program("record_a").attach(to: probe, in: .process(child))
      let allLink = try everyone.program("record_a").attach(to: probe, in: .allProcesses)

      try parent.fire(0)
      try parent.run("release", expecting: "released")
      let seenByFiltered = try filtered.hits()
      #expect(seenByFiltered.map(\.pid) == [child], "only the child reaches the pid-filtered link")
      #expect(seenByFiltered.first?.tid == child)
      let seenByAll = try everyone.hits().filter { [parent.pid, child].contains($0.pid) }
      #expect(Set(seenByAll.map(\.pid)) == [parent.pid, child], "the unfiltered link sees both")
      #expect(seenByAll.count == 2)

      childLink.detach()
      allLink.detach()
      cleanFiltered.verify()
      cleanEveryone.verify()
      #expect(parent.finish() == 0)
    }

    @Test("a child thread", arguments: AttachMode.allCases)
    func childThread(mode: AttachMode) throws {
      let path = try TestTargets.path("pidfilter")
      let probe = ProbeSelector(binary: path, provider: "test", name: "pid_filter_usdt")
      let process = try TargetProcess(path)
      let filtered = try Recorder(mode)
      let clean = Cleanliness(filtered.object)

      let reply = try process.run("spawn-thread", expecting: "thread tid=")
      let thread = try #require(TargetProcess.value("tid", in: reply))
      #expect(thread != process.pid)
      let link = try filtered.program("record_a").attach(to: probe, in: .process(process.pid))

      try process.fire(0)
      try process.run("release", expecting: "released")
      let hits = try filtered.hits()
      #expect(hits.allSatisfy { $0.pid == process.pid }, "a pid filter is a process filter")
      #expect(Set(hits.map(\.tid)) == [process.pid, thread], "the main thread and the child thread both reach it")
      #expect(hits.count == 2)

      link.detach()
      clean.verify()
      #expect(process.finish() == 0)
    }
  }
}
