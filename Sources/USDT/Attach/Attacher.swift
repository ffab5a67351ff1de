import Glibc

// Attaching a program to a USDT probe, in order:
//  1. read the binary's notes and keep the sites of `provider:name` (ProbeList);
//  2. check each site: located in an executable segment, semaphore in a data segment,
//     arguments parsed for the file's architecture, which must be the host's;
//  3. give each distinct argument string one spec ID and write its spec (arguments + the
//     caller's cookie) into `__bpf_usdt_specs`, in the layout the object's BTF describes;
//  4. create the uprobes with the spec ID as BPF cookie, through the chosen backend;
//  5. hand everything to a ProbeLink, or, on any failure, release it all through the same path.

extension BPFProgram {
  /// Attaches this program to every site of a USDT probe.
  ///
  /// The program reads arguments with `bpf_usdt_arg()` and the cookie with `bpf_usdt_cookie()`.
  ///
  /// - Parameters:
  ///   - probe: the binary and `provider:name`.
  ///   - target: which processes to trace; every process by default.
  ///   - cookie: what `bpf_usdt_cookie()` returns for this attach.
  ///   - backend: how the uprobes are created.
  /// - Returns: a link that owns the uprobes and spec IDs until ``ProbeLink/detach()``.
  /// - Throws: `.probeNotFound`, `.malformedELF`, `.addressNotMapped`, `.unsupportedOperand`,
  ///   `.unknownRegister`, `.unsupportedArchitecture`, `.specMapFull`,
  ///   `.incompatibleBPFObject`, `.permissionDenied`, `.noSuchProcess`, `.kernelLacks`,
  ///   `.systemCall`. Nothing is left attached or allocated when it throws.
  public func attach(
    to probe: ProbeSelector, in target: Target = .allProcesses, cookie: UInt64 = 0,
    backend: AttachBackend = .perfEvent
  ) throws(USDTError) -> ProbeLink {
    do {
      return try Attacher(program: self, probe: probe, target: target, cookie: cookie).run(
        backend: backend)
    } catch {
      throw error.adding(binary: probe.binary, probe: probe.qualifiedName)
    }
  }
}

/// One attach in progress.
private struct Attacher {
  let program: BPFProgram
  let probe: ProbeSelector
  let target: Target
  let cookie: UInt64

  init(program: BPFProgram, probe: ProbeSelector, target: Target, cookie: UInt64) {
    self.program = program
    self.probe = probe
    self.target = target
    self.cookie = cookie
  }

  func run(backend: AttachBackend) throws(USDTError) -> ProbeLink {
    let support = try program.object.usdtSupport()
    let pid = try target.resolvedPID()
    let sites = try attachableSites()

    var resources = AttachResources()
    do throws(USDTError) {
      let siteSpecIDs = try writeSpecs(for: sites, support: support, into: &resources)
      switch backend {
      case .perfEvent:
        try attachPerfEvents(sites: sites, specIDs: siteSpecIDs, pid: pid, into: &resources)
      }
      return ProbeLink(
        probe: probe, target: target, cookie: cookie, siteSpecIDs: siteSpecIDs, backend: backend,
        object: program.object, allocator: support.allocator, resources: resources)
    } catch {
      resources.release(to: support.allocator)
      throw error
    }
  }

  /// Steps 1–2: the sites of the probe, each ready to attach.
  private func attachableSites() throws(USDTError) -> [Probe] {
    let list = try ProbeList(path: probe.binary)
    let sites = list.sites(provider: probe.provider, name: probe.name)
    guard !sites.isEmpty else {
      throw USDTError(
        .probeNotFound, "no such probe", errno: .noSuchFileOrDirectory,
        hint: "List the probes of the file with `usdt list \(probe.binary)`")
    }
    guard let architecture = list.file.architecture,
      architecture == KernelFeatures.hostArchitecture, list.file.is64Bit == (Int.bitWidth == 64)
    else {
      throw USDTError(
        .unsupportedArchitecture,
        "the file is built for \(list.file.architecture?.rawValue ?? "machine \(list.file.machine)"), this host runs \(KernelFeatures.hostArchitecture?.rawValue ?? "an unknown architecture")",
        hint: "Attach on a host of the file's architecture; `usdt list` still decodes it here")
    }
    for site in sites {
      if let problem = site.problems.first { throw problem }
    }
    if sites.contains(where: { $0.semaphoreOffset != nil }) && !KernelFeatures.countsSemaphores {
      throw USDTError(
        .kernelLacks("ref_ctr_offset"),
        "the probe has a semaphore, and this kernel cannot count it (needs Linux 4.20+)")
    }
    return sites
  }

  /// Step 3: one spec per distinct argument string in this attach; returns each site's spec ID.
  private func writeSpecs(
    for sites: [Probe], support: USDTSupport, into resources: inout AttachResources
  ) throws(USDTError) -> [Int32] {
    var idByArguments: [String: Int32] = [:]
    var siteIDs: [Int32] = []
    siteIDs.reserveCapacity(sites.count)
    for site in sites {
      if let id = idByArguments[site.note.arguments] {
        siteIDs.append(id)
        continue
      }
      let spec: [UInt8]
      do {
        spec = try SpecEncoder.encode(site.arguments ?? [], cookie: cookie, layout: support.layout)
      } catch {
        throw error.adding(hint: "The probe's arguments are \"\(site.note.arguments)\"")
      }
      let id = try support.allocator.allocate()
      resources.specIDs.append(id)
      try Syscalls.updateMapElement(
        map: support.specMapFD, key: id.littleEndianBytes, value: spec, flags: 0)
      idByArguments[site.note.arguments] = id
      siteIDs.append(id)
    }
    return siteIDs
  }

  /// Step 4, per-site backend: a uprobe perf event and a `bpf_link` carrying the spec ID.
  private func attachPerfEvents(
    sites: [Probe], specIDs: [Int32], pid: pid_t?, into resources: inout AttachResources
  ) throws(USDTError) {
    let pmuType = try KernelFeatures.uprobePMUType.get()
    for (site, specID) in zip(sites, specIDs) {
      guard let offset = site.fileOffset else { continue }
      let perfEvent = try Syscalls.openUprobe(
        pmuType: pmuType, path: probe.binary, offset: offset,
        refCtrOffset: site.semaphoreOffset ?? 0, pid: pid ?? -1)
      // The link holds its own reference to the perf event, so one fd per site is enough.
      defer { Syscalls.close(perfEvent) }
      let link = try Syscalls.createPerfEventLink(
        program: program.fd, perfEvent: perfEvent, cookie: UInt64(specID))
      resources.linkFDs.append(link)
    }
  }
}
