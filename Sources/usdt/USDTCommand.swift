import ArgumentParser

/// `usdt`: list, check and trace USDT probes.
@main
struct USDTCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "usdt",
    abstract: "List USDT probes (sys/sdt.h static tracepoints) and attach eBPF programs to them.",
    subcommands: [List.self, Check.self, Trace.self, ConformanceCommand.self, ConformanceAdapter.self])
}
