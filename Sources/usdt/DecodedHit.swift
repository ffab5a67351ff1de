import FoundationEssentials
import Glibc
import USDT

/// The JSON shape of one `usdt trace --json` line.
struct DecodedHit: Encodable {
  var probe: String
  var pid: Int32
  var tid: Int32
  /// The link-time address of the site that fired, when the hit could be matched to one.
  var address: UInt64?
  /// One value per argument: a number, or `null` for one the BPF side could not read.
  var args: [ArgumentValue]
  /// The arguments that are `null` in ``args``, and why.
  var unavailable: [UnavailableArgument]
  /// Each argument's size in bytes, for text output (not in the JSON).
  var sizes: [Int] = []

  enum CodingKeys: String, CodingKey {
    case probe, pid, tid, address, args, unavailable
  }
}

/// An argument's value, typed by its spec: integers of their size and sign, floats from their bits.
enum ArgumentValue: Encodable, Equatable {
  case signed(Int64)
  case unsigned(UInt64)
  case float(Float)
  case double(Double)
  case unavailable

  func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .signed(let value): try container.encode(value)
    case .unsigned(let value): try container.encode(value)
    case .float(let value): try container.encode(value)
    case .double(let value): try container.encode(value)
    case .unavailable: try container.encodeNil()
    }
  }

  /// Decimal; 8-byte unsigned values (pointers, mostly) in hexadecimal.
  func text(size: Int) -> String {
    switch self {
    case .signed(let value): String(value)
    case .unsigned(let value): size == 8 ? hex(value) : String(value)
    case .float(let value): "\(value)"
    case .double(let value): "\(value)"
    case .unavailable: "unavailable"
    }
  }
}

/// An argument `bpf_usdt_arg()` failed for.
struct UnavailableArgument: Encodable {
  var index: Int
  /// What `bpf_usdt_arg()` returned, negated, by name.
  var errno: String
  /// Why, when the attach knew in advance.
  var reason: String?
}

/// Turns a recorder hit into typed values, with the argument specs of the site that fired.
///
/// The hit holds each argument's raw 8-byte value, already truncated and extended by the spec's
/// size and sign, and the size. Whether it is a float, and its sign, come from the site's note:
/// the site is found by the hit's instruction pointer (through `/proc/PID/maps` for a
/// position-independent file), or, failing that, the first site stands in (sites of one probe
/// almost always agree on types).
final class HitDecoder {
  private let link: ProbeLink
  private let sites: [Probe]
  private let isPositionIndependent: Bool
  /// Instruction pointer → site index, per process for position-independent files.
  private var sitesByIP: [Int32: [UInt64: Int]] = [:]
  private let reasons: [Int: String]

  init(link: ProbeLink, sites: [Probe]) {
    self.link = link
    self.sites = sites
    isPositionIndependent = (try? ELFFile(path: link.probe.binary).isSharedObjectOrPIE) ?? false
    var reasons: [Int: String] = [:]
    for error in link.unavailableArguments { reasons[error.argument ?? 0] = error.message }
    self.reasons = reasons
  }

  func decode(_ hit: RecordedHit) -> DecodedHit {
    let index = siteIndex(ip: hit.ip, pid: hit.pid)
    let site = index.map { sites[$0] } ?? sites.first
    let specs = site?.arguments ?? []
    var values: [ArgumentValue] = []
    var unavailable: [UnavailableArgument] = []
    var sizes: [Int] = []
    for argument in 0..<max(0, min(Int(hit.argumentCount), 12)) {
      let result = hit.returns[argument]
      guard result == 0 else {
        values.append(.unavailable)
        sizes.append(Int(max(hit.sizes[argument], 0)))
        unavailable.append(
          UnavailableArgument(
            index: argument, errno: errnoName(Int32(truncatingIfNeeded: -result)),
            reason: reasons[argument]))
        continue
      }
      let raw = hit.values[argument]
      let spec = specs.indices.contains(argument) ? specs[argument] : nil
      let size = Int(hit.sizes[argument] > 0 ? hit.sizes[argument] : 8)
      sizes.append(size)
      if let spec, spec.isFloat {
        values.append(size == 4 ? .float(Float(bitPattern: UInt32(truncatingIfNeeded: raw))) : .double(Double(bitPattern: raw)))
      } else if spec?.isSigned ?? false {
        values.append(.signed(Int64(bitPattern: raw)))
      } else {
        values.append(.unsigned(raw))
      }
    }
    return DecodedHit(
      probe: link.probe.qualifiedName, pid: hit.pid, tid: hit.tid,
      address: index.map { link.siteAddresses.indices.contains($0) ? link.siteAddresses[$0] : sites[$0].address },
      args: values, unavailable: unavailable, sizes: sizes)
  }

  /// The site whose uprobe sits at `ip` in process `pid`.
  private func siteIndex(ip: UInt64, pid: Int32) -> Int? {
    let key = isPositionIndependent ? pid : 0
    if let table = sitesByIP[key] { return table[ip] }
    var table: [UInt64: Int] = [:]
    let maps = isPositionIndependent ? try? ProcessMaps(pid: pid) : nil
    for (index, site) in sites.enumerated() {
      let placed = link.siteAddresses.indices.contains(index) ? link.siteAddresses[index] : site.address
      for address in [site.address, placed] {
        if !isPositionIndependent {
          table[address] = index
        } else if let maps, let offset = site.fileOffset,
          let runtime = maps.address(
            ofFileOffset: offset &+ (address &- site.address), in: link.probe.binary, kind: .code)
        {
          table[runtime] = index
        }
      }
    }
    sitesByIP[key] = table
    return table[ip]
  }
}

/// Prints decoded hits, as text or as JSON lines.
struct HitPrinter {
  var json: Bool
  var probe: String
  private let encoder: JSONEncoder

  init(json: Bool, probe: String) {
    self.json = json
    self.probe = probe
    encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
  }

  func print(_ hit: DecodedHit) {
    if json {
      if let data = try? encoder.encode(hit) { Swift.print(String(decoding: data, as: UTF8.self)) }
      return
    }
    var line = "\(hit.probe) pid=\(hit.pid) tid=\(hit.tid)"
    for (index, value) in hit.args.enumerated() {
      if case .unavailable = value, let why = hit.unavailable.first(where: { $0.index == index }) {
        line += " arg\(index)=unavailable(\(why.errno))"
      } else {
        line += " arg\(index)=\(value.text(size: hit.sizes.indices.contains(index) ? hit.sizes[index] : 8))"
      }
    }
    Swift.print(line)
  }
}
