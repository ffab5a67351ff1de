import FoundationEssentials

/// What a case expects to see after its commands have run.
///
/// Forms, combinable:
/// - `hits`: every hit, each with its arguments and cookie, matched in any order (the count is
///   `hits.count` unless `count` says otherwise);
/// - `count` with `each`: a number of hits that all look alike (e.g. 400 sites of one spec);
/// - `sums`: the sum of each argument over all hits (`null` skips an argument);
/// - `refused: true`: the attach itself must fail.
public struct Expectation: Codable, Sendable {
  public var count: Int?
  public var hits: [HitPattern]?
  public var each: HitPattern?
  public var sums: [FlexibleUInt64?]?
  public var refused: Bool?

  public init(
    count: Int? = nil, hits: [HitPattern]? = nil, each: HitPattern? = nil, sums: [FlexibleUInt64?]? = nil,
    refused: Bool? = nil
  ) {
    self.count = count
    self.hits = hits
    self.each = each
    self.sums = sums
    self.refused = refused
  }

  /// Whether the attach must be refused.
  public var expectsRefusal: Bool { refused == true }

  /// The number of hits expected (nil for a refusal).
  public var expectedCount: Int? { expectsRefusal ? nil : count ?? hits?.count }

  func validate(case name: String) throws(CorpusError) {
    func fail(_ message: String) -> CorpusError { CorpusError(file: "", message: "case \(name): \(message)") }
    if expectsRefusal {
      if count != nil || hits != nil || each != nil || sums != nil {
        throw fail("a refusal expects no hits")
      }
      return
    }
    guard let expected = expectedCount else { throw fail("expect needs hits, or a count") }
    if let hits, hits.count != expected { throw fail("count \(expected) but \(hits.count) hits listed") }
    if expected > 0 && hits == nil && each == nil && sums == nil {
      throw fail("expect needs hits, each or sums to check the values")
    }
  }
}

/// One expected hit: its arguments and, optionally, its cookie (the attach's cookie when absent).
public struct HitPattern: Codable, Sendable {
  public var args: [ExpectedValue]
  public var cookie: FlexibleUInt64?

  public init(args: [ExpectedValue], cookie: UInt64? = nil) {
    self.args = args
    self.cookie = cookie.map(FlexibleUInt64.init)
  }
}

/// An expected argument value.
///
/// JSON forms: an integer (`42`, `-9`, or `"0xfedcba9876543210"`), compared as a 64-bit bit
/// pattern; a float with a fraction (`2.5`), compared numerically; `"unavailable"`, for an
/// argument the implementation cannot read (it must say so rather than give a wrong value);
/// `{"ready": "bla"}`, the value the target printed as `bla=…` in its ready line (with an
/// optional `"plus": n`); `{"one_of": [v, …]}`, any of several (e.g. a value, or
/// `"unavailable"` where an older BPF ABI cannot express the operand).
public indirect enum ExpectedValue: Codable, Sendable, Equatable, CustomStringConvertible {
  case integer(UInt64)
  case float(Double)
  case unavailable
  case ready(key: String, plus: Int64)
  case oneOf([ExpectedValue])

  enum CodingKeys: String, CodingKey {
    case ready, plus
    case oneOf = "one_of"
    case float
  }

  public init(from decoder: any Decoder) throws {
    if let container = try? decoder.singleValueContainer() {
      if let signed = try? container.decode(Int64.self) {
        self = .integer(UInt64(bitPattern: signed))
        return
      }
      if let unsigned = try? container.decode(UInt64.self) {
        self = .integer(unsigned)
        return
      }
      if let double = try? container.decode(Double.self) {
        self = .float(double)
        return
      }
      if let text = try? container.decode(String.self) {
        if text == "unavailable" {
          self = .unavailable
        } else if let value = parseInteger(text) {
          self = .integer(value)
        } else {
          throw DecodingError.dataCorruptedError(
            in: container, debugDescription: "\(text): expected an integer, 0x…, or \"unavailable\"")
        }
        return
      }
    }
    let keyed = try decoder.container(keyedBy: CodingKeys.self)
    if let key = try keyed.decodeIfPresent(String.self, forKey: .ready) {
      self = .ready(key: key, plus: try keyed.decodeIfPresent(Int64.self, forKey: .plus) ?? 0)
    } else if let options = try keyed.decodeIfPresent([ExpectedValue].self, forKey: .oneOf) {
      self = .oneOf(options)
    } else if let float = try keyed.decodeIfPresent(Double.self, forKey: .float) {
      self = .float(float)
    } else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath, debugDescription: "expected {\"ready\": KEY}, {\"one_of\": […]} or {\"float\": X}"))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    switch self {
    case .integer(let value):
      var container = encoder.singleValueContainer()
      try container.encode(Int64(bitPattern: value))
    case .float(let value):
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(value, forKey: .float)
    case .unavailable:
      var container = encoder.singleValueContainer()
      try container.encode("unavailable")
    case .ready(let key, let plus):
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(key, forKey: .ready)
      if plus != 0 { try container.encode(plus, forKey: .plus) }
    case .oneOf(let options):
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(options, forKey: .oneOf)
    }
  }

  public var description: String {
    switch self {
    case .integer(let value): formatInteger(value)
    case .float(let value): "\(value)"
    case .unavailable: "unavailable"
    case .ready(let key, let plus): plus == 0 ? "ready.\(key)" : "ready.\(key)+\(plus)"
    case .oneOf(let options): options.map(\.description).joined(separator: " or ")
    }
  }

  /// The value with every `ready` reference replaced by what the target printed.
  public func resolved(_ ready: [String: String]) throws(CorpusError) -> ExpectedValue {
    switch self {
    case .ready(let key, let plus):
      guard let text = ready[key], let value = parseInteger(text) else {
        throw CorpusError(file: "", message: "the target's ready line has no integer \(key)=… (it printed \(ready))")
      }
      return .integer(value &+ UInt64(bitPattern: plus))
    case .oneOf(let options):
      var resolved: [ExpectedValue] = []
      for option in options { resolved.append(try option.resolved(ready)) }
      return .oneOf(resolved)
    default:
      return self
    }
  }

  /// Whether an observed value satisfies this (resolved) expectation.
  public func matches(_ observed: ObservedValue) -> Bool {
    switch (self, observed) {
    case (.integer(let a), .integer(let b)): a == b
    case (.float(let a), .float(let b)): a == b || (a.isNaN && b.isNaN)
    // An adapter may print an integral float as "2"; non-integral floats never collide.
    case (.float(let a), .integer(let b)): Double(Int64(bitPattern: b)) == a
    case (.unavailable, .unavailable): true
    case (.oneOf(let options), _): options.contains { $0.matches(observed) }
    default: false
    }
  }
}

/// An argument value as an adapter reported it.
public enum ObservedValue: Codable, Sendable, Equatable, CustomStringConvertible {
  /// A 64-bit bit pattern (adapters print signed or unsigned decimal).
  case integer(UInt64)
  case float(Double)
  case unavailable

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if let signed = try? container.decode(Int64.self) {
      self = .integer(UInt64(bitPattern: signed))
    } else if let unsigned = try? container.decode(UInt64.self) {
      self = .integer(unsigned)
    } else if let double = try? container.decode(Double.self) {
      self = .float(double)
    } else {
      let text = try container.decode(String.self)
      if text == "unavailable" {
        self = .unavailable
      } else if let value = parseInteger(text) {
        self = .integer(value)
      } else {
        throw DecodingError.dataCorruptedError(
          in: container, debugDescription: "\(text): expected a number or \"unavailable\"")
      }
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .integer(let value): try container.encode(Int64(bitPattern: value))
    case .float(let value): try container.encode(value)
    case .unavailable: try container.encode("unavailable")
    }
  }

  public var description: String {
    switch self {
    case .integer(let value): formatInteger(value)
    case .float(let value): "\(value)"
    case .unavailable: "unavailable"
    }
  }
}

/// One hit as an adapter printed it: `{"pid": …, "tid": …, "args": […], "cookie": …}`.
public struct ObservedHit: Codable, Sendable {
  public var pid: Int32
  public var tid: Int32?
  public var args: [ObservedValue]
  /// `nil` when the implementation has no USDT cookies.
  public var cookie: FlexibleUInt64?

  public init(pid: Int32, tid: Int32? = nil, args: [ObservedValue], cookie: UInt64?) {
    self.pid = pid
    self.tid = tid
    self.args = args
    self.cookie = cookie.map(FlexibleUInt64.init)
  }
}

/// Small values in decimal (signed), large ones (addresses, bit patterns) in hex.
func formatInteger(_ value: UInt64) -> String {
  let signed = Int64(bitPattern: value)
  return signed.magnitude < 1 << 32 ? "\(signed)" : "0x" + String(value, radix: 16)
}
