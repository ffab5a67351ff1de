import Glibc
import Testing

/// Whether this process may attach uprobes, and whether CI demands that it can.
enum Privilege {
  /// Root has CAP_BPF and CAP_PERFMON; that is what the suites need.
  static var canAttach: Bool { geteuid() == 0 }
  /// Set by CI: a privileged test that cannot run is a failure, not a skip.
  static var isRequired: Bool { getenv("USDT_REQUIRE_PRIVILEGED").map { String(cString: $0) } == "1" }
}

/// Runs a test only with privilege: without it the test is cancelled with the reason, and
/// under `USDT_REQUIRE_PRIVILEGED=1` it fails instead, so CI can never pass by skipping.
struct PrivilegedTrait: TestTrait, SuiteTrait, TestScoping {
  var isRecursive: Bool { true }

  func provideScope(
    for test: Test, testCase: Test.Case?, performing body: @Sendable () async throws -> Void
  ) async throws {
    guard Privilege.canAttach else {
      let why: Comment = "needs root with CAP_BPF and CAP_PERFMON to attach uprobes"
      if Privilege.isRequired {
        Issue.record("USDT_REQUIRE_PRIVILEGED=1, but this test \(why)")
        return
      }
      try Test.cancel(why)
    }
    try await body()
  }
}

extension Trait where Self == PrivilegedTrait {
  static var privileged: Self { Self() }
}

/// Every conformance suite, one after another: they attach to the same files and count the
/// process's BPF fds, so two suites must never run at once.
@Suite(.privileged, .serialized)
enum Conformance {}
