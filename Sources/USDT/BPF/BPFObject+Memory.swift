import CLibBPF
import Glibc

extension BPFObject {
  /// Opens and loads a BPF object held in memory, such as one embedded in a tool.
  ///
  /// The same as ``init(path:options:)`` but through libbpf's `bpf_object__open_mem`. libbpf
  /// copies what it needs (programs, map definitions, BTF) while opening, so `bytes` need not
  /// outlive the call. ``path`` is `name` for such an object; libbpf also names the object
  /// after it (map names of global data sections are derived from it).
  ///
  /// - Parameters:
  ///   - bytes: the whole ELF file of the object, as `clang -target bpf` wrote it.
  ///   - name: names the object in messages, e.g. `"usdt trace recorder"`.
  /// - Throws: `.invalidArgument` when the bytes are not a BPF object libbpf can open,
  ///   `.systemCall` (with errno) when libbpf cannot load it; `.permissionDenied` without
  ///   `CAP_BPF`.
  public convenience init(bytes: [UInt8], name: String, options: Options = Options())
    throws(USDTError)
  {
    let opened = Self.open(bytes: bytes, name: name)
    guard let handle = opened.handle else {
      let code = opened.errno
      throw USDTError(
        // libbpf's own codes (LIBBPF_ERRNO__FORMAT and the like) start at 4000.
        code == EINVAL || code == ENOENT || code >= 4000 ? .invalidArgument : .systemCall,
        "cannot open BPF object from memory (\(bytes.count) bytes)",
        errno: .init(rawValue: code), binary: name)
    }
    try self.init(opened: handle, path: name, options: options)
  }

  /// `bpf_object__open_mem`: the opened (not loaded) object, or `nil` and libbpf's errno.
  static func open(bytes: [UInt8], name: String) -> (handle: OpaquePointer?, errno: Int32) {
    var options = bpf_object_open_opts()
    // LIBBPF_OPTS cannot be used from Swift; the size tells libbpf which fields we know.
    options.sz = MemoryLayout<bpf_object_open_opts>.size
    return name.withCString { cName in
      options.object_name = cName
      return bytes.withUnsafeBytes { buffer in
        let handle = bpf_object__open_mem(buffer.baseAddress, buffer.count, &options)
        return (handle, handle == nil ? Glibc.errno : 0)
      }
    }
  }
}
