import Foundation
import Testing
import USDT

extension Conformance {
  /// Every argument form a compiler emits on x86-64, decoded at run time: registers of every
  /// width (high bytes included), stack slots (red zone included), globals read RIP-relative,
  /// array elements read through SIB, constants, floats and doubles, signed and unsigned
  /// char/short/int/long, a 12-argument probe, and a thread-local that a uprobe cannot read.
  ///
  /// No kernel selftest covers this. Each of gcc and clang at -O0 and -O2 builds
  /// `TestTargets/argforms`; `expected.json` holds the values. With SwiftUSDT's header every
  /// readable value must decode, floats flagged, and only unreadable arguments fail
  /// (`-ENODATA`); with libbpf 1.1.2's header the probe still attaches and only the forms that
  /// header cannot express fail (`-EINVAL`), while libbpf itself would refuse the whole probe.
  @Suite("argument forms", .serialized, .timeLimit(.minutes(3)))
  struct ArgFormsSuite {
    static let builds = ["gcc-O0", "gcc-O2", "clang-O0", "clang-O2"]
    static let enodata: Int64 = -61
    static let einval: Int64 = -22

    enum Header: String, CaseIterable, CustomTestStringConvertible, Sendable {
      case ours, libbpf
      var testDescription: String { rawValue }
      var object: String { self == .ours ? "argforms" : "recorder" }
    }

    struct Expectation {
      var kinds: [String]
      var sizes: [Int]
      var values: [Int: [Any]]
    }

    static func expectations() throws -> [String: Expectation] {
      let url = TestTargets.root.appendingPathComponent("TestTargets/argforms/expected.json")
      let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: [String: Any]])
      var result: [String: Expectation] = [:]
      for (probe, entry) in json {
        var values: [Int: [Any]] = [:]
        for (key, value) in entry { if let x = Int(key), let list = value as? [Any] { values[x] = list } }
        result[probe] = Expectation(
          kinds: entry["kinds"] as? [String] ?? [], sizes: entry["sizes"] as? [Int] ?? [], values: values)
      }
      #expect(result.count >= 8, "expected.json lists the probes")
      return result
    }

    @Test("every probe decodes", arguments: Header.allCases, builds)
    func decodes(header: Header, build: String) throws {
      let path = try TestTargets.path("argforms-\(build)")
      let expectations = try Self.expectations()
      let probes = try ProbeList(path: path)
      for mode in [AttachMode.multi, .noCookie] {
        let recorder = try Recorder(mode, object: header.object)
        let clean = Cleanliness(recorder.object)
        let child = try TargetProcess(path)
        for (name, expectation) in expectations.sorted(by: { $0.key < $1.key }) {
          let parts = name.split(separator: ":").map(String.init)
          let sites = probes.sites(provider: parts[0], name: parts[1])
          try #require(!sites.isEmpty, "\(name) in \(build)")
          let link = try recorder.program("record_a").attach(
            to: .init(binary: path, provider: parts[0], name: parts[1]), in: .process(child.pid))
          try recorder.reset()
          for x in [1, 2] {
            try child.fire(x)
            let hits = try recorder.hits(pid: child.pid)
            let hit = try #require(hits.last, "\(name) fired in \(build) (\(mode.rawValue))")
            try check(hit, site: sites[0], expectation, x: x, header: header, child: child, context: "\(build) \(mode.rawValue) \(name)")
          }
          link.detach()
        }
        clean.verify()
        #expect(child.finish() == 0)
      }
    }

    private func check(
      _ hit: Recorder.Hit, site: Probe, _ expectation: Expectation, x: Int, header: Header,
      child: TargetProcess, context: String
    ) throws {
      let arguments = try #require(site.arguments)
      let values = try #require(expectation.values[x])
      #expect(Int(hit.argCount) == arguments.count, "\(context): argument count")
      for (index, argument) in arguments.enumerated() where index < values.count {
        let label = "\(context) arg\(index) \(argument.size)@\(argument.text)"
        #expect(Int(hit.sizes[index]) == expectation.sizes[index], "\(label): size")
        if case .unavailable = argument.operand {
          #expect(hit.returns[index] == (header == .ours ? Self.enodata : Self.einval), "\(label): unreadable")
          continue
        }
        if header == .libbpf, !libbpfHeaderReads(argument.operand) {
          #expect(hit.returns[index] == Self.einval, "\(label): libbpf 1.1.2's header cannot read it")
          continue
        }
        #expect(hit.returns[index] == 0, "\(label): read")
        let raw = hit.arguments[index]
        switch expectation.kinds[index] {
        case "double":
          #expect(Double(bitPattern: raw) == (values[index] as? NSNumber)?.doubleValue, "\(label)")
        case "float":
          #expect(Float(bitPattern: UInt32(truncatingIfNeeded: raw)) == (values[index] as? NSNumber)?.floatValue, "\(label)")
        default:
          if let reference = values[index] as? String, reference.hasPrefix("ready:") {
            #expect(raw == child.address(String(reference.dropFirst(6))), "\(label)")
          } else {
            #expect(Int64(bitPattern: raw) == (values[index] as? NSNumber)?.int64Value, "\(label)")
          }
        }
        if header == .ours, let flags = hit.flags {
          #expect((flags[index] & 1 == 1) == argument.isFloat, "\(label): float flag")
        }
      }
    }

    /// What libbpf 1.1.2's header can read once the library has resolved symbols (through rip).
    private func libbpfHeaderReads(_ operand: Operand) -> Bool {
      switch operand {
      case .indexed: false
      default: true
      }
    }
  }
}
