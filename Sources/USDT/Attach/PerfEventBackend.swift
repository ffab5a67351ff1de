/// One uprobe perf event and one `bpf_link` per site.
///
/// The fallback for kernels without a usable uprobe_multi link, and the only path without BPF
/// cookies. Costs two system calls per site and, on detach, one slow close per site.
enum PerfEventBackend {
  static func attach(_ plan: AttachPlan, into resources: inout AttachResources) throws(USDTError) {
    let pmuType = try KernelFeatures.uprobePMUType.get()
    resources.linkFDs.reserveCapacity(plan.sites.count)
    for site in plan.sites {
      let perfEvent = try Syscalls.openUprobe(
        pmuType: pmuType, path: plan.path, offset: site.offset,
        refCtrOffset: site.semaphoreOffset, pid: plan.pid ?? -1)
      // The link holds its own reference to the perf event, so one fd per site is enough.
      defer { Syscalls.close(perfEvent) }
      let link = try Syscalls.createPerfEventLink(
        program: plan.program, perfEvent: perfEvent, cookie: site.cookie)
      resources.linkFDs.append(link)
    }
  }
}
