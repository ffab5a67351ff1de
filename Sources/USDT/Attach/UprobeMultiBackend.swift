/// Every site of one attach in a single `uprobe_multi` link (Linux 6.6+).
///
/// One system call with arrays of file offsets, semaphore offsets and cookies; one fd; one
/// close removes all sites. The pid filter (`pid` 0 = every process) follows the process, not
/// the thread, since the fix in Linux 6.10.
enum UprobeMultiBackend {
  static func attach(_ plan: AttachPlan, into resources: inout AttachResources) throws(USDTError) {
    let link = try Syscalls.createUprobeMultiLink(
      program: plan.program, path: plan.path, offsets: plan.sites.map { UInt($0.offset) },
      refCtrOffsets: plan.sites.map { UInt($0.semaphoreOffset) },
      cookies: plan.sites.map(\.cookie), pid: plan.pid ?? 0)
    resources.linkFDs.append(link)
  }
}
