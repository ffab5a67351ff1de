import ArgumentParser
import FoundationEssentials
import Glibc
import USDT

/// `usdt list PATH…`: every probe site with its location and decoded arguments.
struct List: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the USDT probes of ELF files, one line per site, with decoded arguments.",
    discussion: """
      Reads the .note.stapsdt notes of each file (any architecture, 32/64-bit, either byte \
      order) and prints provider:name, the site's address and file offset, its semaphore, and \
      each argument decoded for the file's architecture. Malformed notes are reported without \
      hiding the good ones.
      """)

  @Argument(help: "ELF executables or shared libraries to read.")
  var paths: [String]

  @Flag(help: "Print one JSON object per file instead of text.")
  var json = false

  func run() throws {
    var failed = false
    for path in paths {
      do {
        let list = try ProbeList(path: path)
        if json {
          let encoder = JSONEncoder()
          encoder.outputFormatting = [.sortedKeys]
          let data = try encoder.encode(FileListing(list))
          print(String(decoding: data, as: UTF8.self))
        } else {
          printText(list)
        }
      } catch let error as USDTError {
        failed = true
        printError("usdt: \(error)")
      }
    }
    if failed { throw ExitCode.failure }
  }

  private func printText(_ list: ProbeList) {
    let file = list.file
    print(
      "\(file.path): \(file.architecture?.rawValue ?? "machine \(file.machine)"), ELF\(file.is64Bit ? 64 : 32) \(file.byteOrder.rawValue)-endian, \(list.probes.count) probe sites"
    )
    for probe in list.probes {
      var line = "  \(probe.qualifiedName)  pc=\(hex(probe.address))"
      if let offset = probe.fileOffset { line += " offset=\(hex(offset))" }
      if let semaphore = probe.semaphoreAddress {
        line += " semaphore=\(hex(semaphore))"
        if let offset = probe.semaphoreOffset { line += " (offset \(hex(offset)))" }
      }
      print(line)
      for (index, argument) in (probe.arguments ?? []).enumerated() {
        print("    arg\(index): \(argument.typeName) \(argument.locationDescription)")
      }
      for problem in probe.problems { print("    cannot attach: \(problem)") }
    }
    for problem in list.malformedNotes { print("  malformed note: \(problem)") }
  }
}

func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

func printError(_ message: String) {
  let line = message + "\n"
  _ = line.withCString { write(STDERR_FILENO, $0, strlen($0)) }
}
