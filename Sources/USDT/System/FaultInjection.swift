import Synchronization
import SystemPackage

/// Makes a named system call fail on demand, so tests can prove that a failure at any step
/// of an attach leaves nothing behind.
///
/// Only ``Syscalls`` consults it. Disarmed (the default) it costs one atomic load per call.
public enum FaultInjection {
  private struct Plan {
    var call: String
    var remaining: Int
    var errno: Errno
  }
  private static let armed = Atomic<Bool>(false)
  private static let plan = Mutex<Plan?>(nil)

  /// Makes the `nth` (1-based) call whose name starts with `call` fail with `errno`, once.
  public static func failCall(_ call: String, nth: Int = 1, with errno: Errno) {
    plan.withLock { $0 = Plan(call: call, remaining: nth, errno: errno) }
    armed.store(true, ordering: .releasing)
  }

  /// Cancels any pending failure; returns whether the planned failure happened.
  @discardableResult
  public static func disarm() -> Bool {
    armed.store(false, ordering: .releasing)
    return plan.withLock { current in
      defer { current = nil }
      return current == nil
    }
  }

  static func take(_ call: String) -> Errno? {
    guard armed.load(ordering: .acquiring) else { return nil }
    return plan.withLock { current -> Errno? in
      guard var p = current, call.hasPrefix(p.call) else { return nil }
      p.remaining -= 1
      if p.remaining > 0 {
        current = p
        return nil
      }
      current = nil
      return p.errno
    }
  }
}
