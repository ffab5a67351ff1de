import Foundation
import Testing
import USDT

/// What a suite checks after detaching: nothing of the attach is left anywhere.
///
/// - the process holds as many BPF and perf-event fds as before (no link or uprobe remains);
/// - the BPF object holds no spec IDs;
/// - tracefs, when mounted, lists the same uprobe events as before.
/// Semaphores are checked by the suites themselves, in the target's memory (``semaphore``).
struct Cleanliness {
  let object: BPFObject
  let fds = Cleanliness.kernelObjectFDs()
  let uprobeEvents = Cleanliness.readUprobeEvents()

  init(_ object: BPFObject) { self.object = object }

  func verify(sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(Self.kernelObjectFDs() == fds, "no BPF link or perf-event fd left", sourceLocation: sourceLocation)
    #expect(object.specIDsInUse == 0, "every spec ID returned", sourceLocation: sourceLocation)
    let added = Self.readUprobeEvents().subtracting(uprobeEvents)
    #expect(added.isEmpty, "no uprobe left in tracefs: \(added)", sourceLocation: sourceLocation)
  }

  /// The uprobe events tracefs lists, when it is mounted.
  static func readUprobeEvents() -> Set<String> {
    for path in ["/sys/kernel/tracing/uprobe_events", "/sys/kernel/debug/tracing/uprobe_events"] {
      if let text = try? String(contentsOfFile: path, encoding: .utf8) {
        return Set(text.split(separator: "\n").map(String.init))
      }
    }
    return []
  }

  /// How many of this process's fds are BPF objects or perf events, by kind
  /// (`anon_inode:bpf_link`, `anon_inode:[perf_event]`, …).
  static func kernelObjectFDs() -> [String: Int] {
    var counts: [String: Int] = [:]
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    for entry in entries {
      guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)"),
        target.hasPrefix("anon_inode:bpf") || target.hasPrefix("anon_inode:[perf_event]")
      else { continue }
      counts[target, default: 0] += 1
    }
    return counts
  }
}

/// The semaphore of `provider:name` in `binary`, read in the memory of process `pid`.
func semaphore(_ provider: String, _ name: String, in binary: String, pid: Int32) throws -> UInt16 {
  let probes = try ProbeList(path: binary)
  let site = try #require(probes.sites(provider: provider, name: name).first)
  let offset = try #require(site.semaphoreOffset, "\(provider):\(name) has a semaphore")
  let maps = try ProcessMaps(pid: pid)
  let address = try #require(maps.address(ofFileOffset: offset, in: binary, kind: .data), "\(binary) is mapped in \(pid)")
  return try ProcessMemory.readUInt16(pid: pid, address: address)
}
