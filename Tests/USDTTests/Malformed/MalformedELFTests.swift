import Foundation
import Testing

@testable import USDT

/// Holds `ProbeList(path:)` to `Fixtures/malformed/manifest.json`: every damaged file gives its
/// error kind, or lists exactly the good probes and reports exactly the bad notes and sites.
@Suite("Malformed ELF corpus")
struct MalformedELFTests {
  @Test(arguments: try MalformedCorpus.fileCases())
  func fileGivesItsOutcome(_ c: MalformedCorpus.Case) throws {
    let path = try MalformedCorpus.path(of: try #require(c.file))
    try c.expect.verify(Result { () throws(USDTError) in try ProbeList(path: path) }, path: path)
  }

  /// The same bytes from memory give the same outcome as from the file (the fuzzer reads memory).
  @Test(arguments: try MalformedCorpus.fileCases())
  func bytesGiveTheSameOutcome(_ c: MalformedCorpus.Case) throws {
    let path = try MalformedCorpus.path(of: try #require(c.file))
    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    try c.expect.verify(
      Result { () throws(USDTError) in try ProbeList(file: ELFFile(bytes: bytes, path: path)) }, path: path)
  }

  @Test(arguments: try MalformedCorpus.setupCases().filter { $0.setup != "unreadable" })
  func setupGivesItsOutcome(_ c: MalformedCorpus.Case) throws {
    try runSetup(c)
  }

  /// Kept apart so that, as root, the skip and its reason show in the test output.
  @Test(.enabled(if: geteuid() != 0, "root reads a mode-000 file anyway (CAP_DAC_OVERRIDE): no EACCES to test"))
  func unreadableFileIsRefused() throws {
    try runSetup(try #require(try MalformedCorpus.setupCases().first { $0.setup == "unreadable" }))
  }

  private func runSetup(_ c: MalformedCorpus.Case) throws {
    let scratch = try TemporaryDirectory()
    defer { scratch.remove() }
    let path = scratch.path + "/" + c.name
    var cleanup: () -> Void = {}
    defer { cleanup() }

    switch c.setup {
    case "directory":
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    case "missing":
      break
    case "not-a-directory":
      try writeGoodELF(to: path)
      return try check(c, path: path + "/child")
    case "unreadable":
      try writeGoodELF(to: path)
      #expect(chmod(path, 0) == 0)
      if access(path, R_OK) == 0 {
        // A non-root process with CAP_DAC_OVERRIDE reads a mode-000 file too.
        try Test.cancel("this process reads a mode-000 file anyway (CAP_DAC_OVERRIDE?): no EACCES to test")
      }
    case "character-device":
      return try check(c, path: "/dev/null")
    case "fifo-with-writer":
      #expect(mkfifo(path, 0o600) == 0)
      // Holding the FIFO open read-write lets the reader's open(2) return at once.
      let writer = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
      try #require(writer >= 0)
      cleanup = { close(writer) }
    case "fifo-without-writer":
      #expect(mkfifo(path, 0o600) == 0)
    default:
      Issue.record("unknown setup \(c.setup ?? "nil")")
      return
    }
    try check(c, path: path)
  }

  /// Runs `ProbeList(path:)` with a time limit, since opening a FIFO can block, and checks it.
  private func check(_ c: MalformedCorpus.Case, path: String) throws {
    let run = { () throws in
      guard let outcome = BoundedCall.run(seconds: 5, unblocking: path, { () throws(USDTError) in
        try ProbeList(path: path)
      }) else {
        Issue.record("ProbeList(path:) did not return within 5 s for \(c.what)")
        return
      }
      try c.expect.verify(outcome, path: path)
    }
    if let issue = c.knownIssue {
      withKnownIssue(Comment(rawValue: issue)) { try run() }
    } else {
      try run()
    }
  }

  /// The manifest and the directory agree: no file without a case, no case without a file.
  @Test func manifestCoversTheDirectory() throws {
    let listed = Set(try MalformedCorpus.fileCases().compactMap(\.file))
    let manifest = try MalformedCorpus.path(of: "manifest.json")
    let directory = (manifest as NSString).deletingLastPathComponent
    var onDisk: Set<String> = []
    for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
      var isDirectory: ObjCBool = false
      FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory)
      if !isDirectory.boolValue, name != "manifest.json", name != "README.md" { onDisk.insert(name) }
    }
    #expect(onDisk.subtracting(listed).isEmpty, "files the manifest does not list")
    #expect(listed.subtracting(onDisk).isEmpty, "cases whose file is missing")
  }

  private func writeGoodELF(to path: String) throws {
    let good = try Data(contentsOf: URL(fileURLWithPath: try MalformedCorpus.path(of: "good-elf64-le.elf")))
    try good.write(to: URL(fileURLWithPath: path))
  }
}

/// A fresh directory under the system temporary directory.
private struct TemporaryDirectory {
  let path: String

  init() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("usdt-malformed-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    path = url.path
  }

  func remove() {
    // A mode-000 file inside is removed fine: unlink needs write permission on the directory.
    try? FileManager.default.removeItem(atPath: path)
  }
}

/// Runs a call on its own thread and waits for it at most a few seconds.
///
/// A call stuck in `open(2)` of a FIFO cannot be cancelled; instead the FIFO is opened for
/// writing (non-blocking, which succeeds once a reader waits), the stuck open returns, and the
/// thread finishes, so nothing outlives the test.
private enum BoundedCall {
  static func run<T: Sendable>(
    seconds: Double, unblocking path: String, _ body: @escaping @Sendable () throws(USDTError) -> T
  ) -> Result<T, USDTError>? {
    let done = DispatchSemaphore(value: 0)
    let box = ResultBox<T>()
    let thread = Thread {
      box.set(Result(catching: body))
      done.signal()
    }
    thread.start()
    if done.wait(timeout: .now() + seconds) == .success { return box.get() }
    var writer: CInt = -1
    for _ in 0..<100 {
      if writer < 0 { writer = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC) }
      if done.wait(timeout: .now() + 0.1) == .success { break }
    }
    if writer >= 0 { close(writer) }
    return nil  // if the thread is still stuck after that, it is left behind
  }

  private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<T, USDTError>?
    func set(_ result: Result<T, USDTError>) { lock.withLock { value = result } }
    func get() -> Result<T, USDTError>? { lock.withLock { value } }
  }
}
