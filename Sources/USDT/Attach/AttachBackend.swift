/// How the uprobes of one attach are created. Chosen per ``BPFObject`` at load time, because a
/// program loaded for one kind of link reads its cookie differently than one loaded for the other.
public enum AttachBackend: String, Sendable, Hashable, CaseIterable, Codable {
  /// One `uprobe_multi` link for every site of an attach (Linux 6.6+, pid filter fixed in 6.10):
  /// one system call, one fd, one close.
  case uprobeMulti = "uprobe-multi"
  /// One `perf_event_open` uprobe plus one `bpf_link` per site (Linux 5.15+ for the cookie).
  case perfEvent = "perf-event"
}

/// How a BPF program finds the spec of the site that fired.
public enum SpecLookup: String, Sendable, Hashable, CaseIterable, Codable {
  /// The spec ID travels as the BPF cookie of the uprobe (Linux 5.15+).
  case cookie
  /// The program looks its instruction pointer up in `__bpf_usdt_ip_to_spec_id`; the path
  /// libbpf takes on kernels without BPF cookies. The object must be built for it (libbpf
  /// does that on such kernels through `LINUX_HAS_BPF_COOKIE`).
  case ipMap = "ip-map"
}
