/// How the uprobes of one attach are created.
public enum AttachBackend: String, Sendable, Hashable, CaseIterable, Codable {
  /// One `perf_event_open` uprobe plus one `bpf_link` per site (Linux 5.15+ for the cookie).
  case perfEvent = "perf-event"
}
