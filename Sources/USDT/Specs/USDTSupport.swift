import CLibBPF

/// The USDT half of a loaded BPF object: its spec map, optional IP map, spec layout and allocator.
///
/// Found once per object, from the maps that `usdt.bpf.h` declares and the object's BTF.
struct USDTSupport: Sendable {
  let specMapFD: CInt
  let ipMapFD: CInt?
  let layout: SpecLayout
  let allocator: SpecAllocator

  init(object: BPFObject) throws(USDTError) {
    guard let specs = bpf_object__find_map_by_name(object.handle, BPFNames.specsMap) else {
      throw USDTError(
        .incompatibleBPFObject, "the BPF object has no \(BPFNames.specsMap) map",
        binary: object.path, hint: BPFNames.includeHint)
    }
    guard let btf = bpf_object__btf(object.handle) else {
      throw USDTError(
        .incompatibleBPFObject, "the BPF object has no BTF", binary: object.path,
        hint: BPFNames.includeHint)
    }
    layout = try SpecLayout(
      btf: btf, mapValueSize: Int(bpf_map__value_size(specs)), objectPath: object.path)
    specMapFD = bpf_map__fd(specs)
    ipMapFD = bpf_object__find_map_by_name(object.handle, BPFNames.ipToSpecIDMap).map {
      bpf_map__fd($0)
    }
    allocator = SpecAllocator(capacity: Int(bpf_map__max_entries(specs)))
  }
}

extension BPFObject {
  /// Spec IDs currently held by links of this object.
  public var specIDsInUse: Int {
    (try? usdtSupport().allocator.inUse) ?? 0
  }
}
