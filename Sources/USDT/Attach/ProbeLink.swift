import Synchronization

/// Everything one attach created in the kernel and in the object's spec table.
///
/// The same release path serves a detach and the rollback of a failed attach, so a failure at
/// any step leaves exactly what a detach would: nothing.
struct AttachResources: Sendable {
  /// `bpf_link` fds (one per site, or one for a whole uprobe_multi attach).
  var linkFDs: [CInt] = []
  /// Spec IDs taken from the object's allocator.
  var specIDs: [Int32] = []
  /// Keys this attach inserted into the IP → spec-ID map (no-cookie mode only).
  var ipMapKeys: [Int64] = []

  /// Closes every link (the kernel removes the uprobes and drops the semaphore counts),
  /// deletes the IP-map entries and returns the spec IDs to the free list.
  mutating func release(to support: USDTSupport) {
    for fd in linkFDs.reversed() { Syscalls.close(fd) }
    if let ipMap = support.ipMapFD {
      for key in ipMapKeys { Syscalls.deleteMapElement(map: ipMap, key: key.littleEndianBytes) }
    }
    support.allocator.release(specIDs)
    linkFDs = []
    specIDs = []
    ipMapKeys = []
  }
}

/// A program attached to every site of one USDT probe. Detach with ``detach()``.
///
/// A link owns its kernel links and spec IDs; ``detach()`` releases them at once and is safe to
/// call twice. If the last reference goes away first, `deinit` detaches. It keeps its
/// ``BPFObject`` alive, so the object's maps outlive the link.
public final class ProbeLink: Sendable {
  /// What was attached.
  public let probe: ProbeSelector
  /// Which processes it covers.
  public let target: Target
  /// The value `bpf_usdt_cookie()` returns for this link.
  public let cookie: UInt64
  /// The number of probe sites attached.
  public let siteCount: Int
  /// The spec IDs this link holds, one per distinct argument string, in site order.
  public let specIDs: [Int32]
  /// The BPF cookie (spec ID) of each site, in note order.
  public let siteSpecIDs: [Int32]
  /// The link-time address each site's uprobe sits on, in note order: the note's address, or
  /// one byte on where an x86-64 nop combo lets the kernel optimize the uprobe.
  public let siteAddresses: [UInt64]
  /// How it was attached.
  public let backend: AttachBackend
  /// Arguments the BPF program will not be able to read (it gets an error for those alone),
  /// with the reason; empty when every argument decodes.
  public let unavailableArguments: [USDTError]
  /// The absolute instruction pointers registered for the sites (no-cookie mode only).
  public let instructionPointers: [UInt64]

  private let object: BPFObject
  private let support: USDTSupport
  private let resources: Mutex<AttachResources>

  init(
    probe: ProbeSelector, target: Target, cookie: UInt64, siteSpecIDs: [Int32],
    siteAddresses: [UInt64], unavailableArguments: [USDTError], object: BPFObject, support: USDTSupport,
    resources: AttachResources
  ) {
    self.unavailableArguments = unavailableArguments
    self.siteAddresses = siteAddresses
    self.probe = probe
    self.target = target
    self.cookie = cookie
    self.siteCount = siteSpecIDs.count
    self.specIDs = resources.specIDs
    self.siteSpecIDs = siteSpecIDs
    self.backend = object.backend
    self.instructionPointers = resources.ipMapKeys.map { UInt64(bitPattern: $0) }
    self.object = object
    self.support = support
    self.resources = Mutex(resources)
  }

  /// Whether the link is still attached.
  public var isAttached: Bool { resources.withLock { !$0.linkFDs.isEmpty } }

  /// Removes every uprobe of this link and frees its spec IDs. Calling it again does nothing.
  public func detach() {
    let support = support
    resources.withLock { $0.release(to: support) }
  }

  deinit { detach() }
}
