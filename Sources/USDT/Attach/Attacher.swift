import Glibc

// Attaching a program to a USDT probe, in order:
//  1. read the binary's notes and keep the sites of `provider:name` (ProbeList);
//  2. check each site: located in an executable segment, semaphore in a data segment,
//     arguments parsed for the file's architecture, which must be the host's;
//  3. give each distinct argument string one spec ID and write its spec (arguments + the
//     caller's cookie) into `__bpf_usdt_specs`, in the layout the object's BTF describes;
//  4. without cookies, register each site's absolute IP in `__bpf_usdt_ip_to_spec_id`;
//  5. create the uprobes with the spec ID as BPF cookie, through the object's backend
//     (UprobeMultiBackend.swift: one link; PerfEventBackend.swift: one link per site);
//  6. hand everything to a ProbeLink, or, on any failure, release it all through the same path.

extension BPFProgram {
  /// Attaches this program to every site of a USDT probe.
  ///
  /// The program reads arguments with `bpf_usdt_arg()` and the cookie with `bpf_usdt_cookie()`.
  /// The backend and spec lookup are the object's (``BPFObject/backend``).
  ///
  /// - Parameters:
  ///   - probe: the binary and `provider:name`.
  ///   - target: which processes to trace; every process by default.
  ///   - cookie: what `bpf_usdt_cookie()` returns for this attach.
  /// - Returns: a link that owns the uprobes and spec IDs until ``ProbeLink/detach()``.
  /// - Throws: `.probeNotFound`, `.malformedELF`, `.addressNotMapped`, `.unsupportedOperand`,
  ///   `.unknownRegister`, `.unsupportedArchitecture`, `.specMapFull`,
  ///   `.incompatibleBPFObject`, `.permissionDenied`, `.noSuchProcess`, `.kernelLacks`,
  ///   `.systemCall`. Nothing is left attached or allocated when it throws.
  public func attach(
    to probe: ProbeSelector, in target: Target = .allProcesses, cookie: UInt64 = 0
  ) throws(USDTError) -> ProbeLink {
    do {
      return try Attacher(program: self, probe: probe, target: target, cookie: cookie).run()
    } catch {
      throw error.adding(
        binary: probe.binary, probe: probe.qualifiedName,
        hint: error.kind == .permissionDenied ? "Run as root or grant CAP_BPF and CAP_PERFMON" : nil)
    }
  }
}

/// One attach in progress.
struct Attacher {
  let program: BPFProgram
  let probe: ProbeSelector
  let target: Target
  let cookie: UInt64

  func run() throws(USDTError) -> ProbeLink {
    let object = program.object
    let support = try object.usdtSupport()
    let pid = try target.resolvedPID()
    let (file, sites) = try attachableSites()
    let placements = place(sites, in: file)

    var resources = AttachResources()
    do throws(USDTError) {
      let (siteSpecIDs, unavailable) = try writeSpecs(
        for: sites, placements: placements, file: file, support: support, into: &resources)
      if object.specLookup == .ipMap {
        try registerInstructionPointers(
          placements: placements, specIDs: siteSpecIDs, file: file, pid: pid, support: support,
          into: &resources)
      }
      let plan = AttachPlan(
        program: program.fd, path: probe.binary, pid: pid,
        sites: zip(zip(sites, placements), siteSpecIDs).map { sitePlacement, specID in
          AttachPlan.Site(
            offset: sitePlacement.1.offset, semaphoreOffset: sitePlacement.0.semaphoreOffset ?? 0,
            cookie: object.specLookup == .cookie ? UInt64(specID) : 0)
        })
      switch object.backend {
      case .uprobeMulti: try UprobeMultiBackend.attach(plan, into: &resources)
      case .perfEvent: try PerfEventBackend.attach(plan, into: &resources)
      }
      return ProbeLink(
        probe: probe, target: target, cookie: cookie, siteSpecIDs: siteSpecIDs,
        siteAddresses: placements.map(\.address),
        unavailableArguments: unavailable, object: object, support: support, resources: resources)
    } catch {
      resources.release(to: support)
      throw error
    }
  }

  /// Steps 1–2: the sites of the probe, each ready to attach.
  private func attachableSites() throws(USDTError) -> (ELFFile, [Probe]) {
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
    return (list.file, sites)
  }

  /// Where each site's uprobe goes: the note's address, or one byte on for an optimizable nop
  /// combo (NopCombo.swift).
  private func place(_ sites: [Probe], in file: ELFFile) -> [Placement] {
    var code = CodeBytes(file: file)
    let optimization = KernelFeatures.nopOptimization
    return sites.map { site in
      let shift = NopCombo.shift(for: site, in: &code, optimization: optimization)
      return Placement(offset: (site.fileOffset ?? 0) + shift, address: site.address + shift)
    }
  }

  /// Step 3: one spec per distinct argument string in this attach (per site when an argument is
  /// symbol-relative, since its displacement depends on the site); returns each site's spec ID
  /// and the arguments that could only be marked unavailable.
  private func writeSpecs(
    for sites: [Probe], placements: [Placement], file: ELFFile, support: USDTSupport,
    into resources: inout AttachResources
  ) throws(USDTError) -> ([Int32], [USDTError]) {
    var idByKey: [String: Int32] = [:]
    var siteIDs: [Int32] = []
    var unavailable: [Int: USDTError] = [:]
    var symbols: SymbolResolver?
    siteIDs.reserveCapacity(sites.count)
    for (site, placement) in zip(sites, placements) {
      var arguments = site.arguments ?? []
      var key = site.note.arguments
      if arguments.contains(where: \.operand.isSymbol) {
        if symbols == nil { symbols = SymbolResolver(file: file) }
        arguments = symbols?.resolve(arguments, at: placement.address) ?? arguments
        key += "@\(placement.address)"
      }
      if let id = idByKey[key] {
        siteIDs.append(id)
        continue
      }
      let spec: SpecEncoder.Encoded
      do throws(USDTError) {
        spec = try SpecEncoder.encode(
          arguments, cookie: cookie, layout: support.layout,
          strict: program.object.rejectsUnreadableArguments)
      } catch {
        throw error.adding(hint: "The probe's arguments are \"\(site.note.arguments)\"")
      }
      for error in spec.unavailable { unavailable[error.argument ?? 0] = error }
      let id = try support.allocator.allocate()
      resources.specIDs.append(id)
      try Syscalls.updateMapElement(
        map: support.specMapFD, key: id.littleEndianBytes, value: spec.bytes, flags: 0)
      idByKey[key] = id
      siteIDs.append(id)
    }
    let errors = unavailable.keys.sorted().compactMap { unavailable[$0] }
    return (siteIDs, errors.map { $0.adding(binary: probe.binary, probe: probe.qualifiedName) })
  }

  /// Step 4 (no-cookie mode): absolute IP → spec ID for every site. A position-independent
  /// file sits at a different address in each process, so it needs a pid, as in libbpf.
  private func registerInstructionPointers(
    placements: [Placement], specIDs: [Int32], file: ELFFile, pid: pid_t?, support: USDTSupport,
    into resources: inout AttachResources
  ) throws(USDTError) {
    guard let ipMap = support.ipMapFD else {
      throw USDTError(
        .incompatibleBPFObject, "the BPF object has no \(BPFNames.ipToSpecIDMap) map",
        hint: BPFNames.includeHint)
    }
    var maps: ProcessMaps?
    if file.isSharedObjectOrPIE {
      guard let pid else {
        throw USDTError(
          .kernelLacks("BPF cookie"),
          "without BPF cookies a shared library or PIE can only be attached in one process",
          errno: .notSupported, hint: "Pass Target.process(pid)")
      }
      maps = try ProcessMaps(pid: pid)
    }
    for (placement, specID) in zip(placements, specIDs) {
      var ip = placement.address
      if let maps {
        guard let address = maps.address(ofFileOffset: placement.offset, in: probe.binary, kind: .code)
        else {
          throw USDTError(
            .addressNotMapped, "the file is not mapped executable in process \(maps.pid)",
            errno: .noSuchProcess, hint: "Check that the process loaded this exact file")
        }
        ip = address
      }
      let key = Int64(bitPattern: ip)
      do throws(USDTError) {
        try Syscalls.updateMapElement(
          map: ipMap, key: key.littleEndianBytes, value: UInt32(bitPattern: specID).littleEndianBytes,
          flags: 1 /* BPF_NOEXIST */)
      } catch where error.errno == .fileExists {
        throw USDTError(
          .systemCall, "IP collision at 0x\(String(ip, radix: 16)): another link of this BPF object already traces this site",
          errno: .fileExists,
          hint: "Without BPF cookies one object can attach each site once; detach the other link or use a second object")
      }
      resources.ipMapKeys.append(key)
    }
  }
}

/// Where one site's uprobe sits: its file offset and link-time address.
struct Placement {
  var offset: UInt64
  var address: UInt64
}

/// What a backend needs to create the uprobes of one attach.
struct AttachPlan {
  /// One uprobe to create.
  struct Site {
    /// File offset of the probe instruction.
    var offset: UInt64
    /// File offset of the semaphore, or 0 without one.
    var semaphoreOffset: UInt64
    /// The BPF cookie: the site's spec ID, or 0 in no-cookie mode.
    var cookie: UInt64
  }
  var program: CInt
  var path: String
  /// `nil` for every process.
  var pid: pid_t?
  var sites: [Site]
}
