// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "SwiftUSDT",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "USDT", targets: ["USDT"]),
    .executable(name: "usdt", targets: ["USDTCommand"]),
    .executable(name: "usdt-bench", targets: ["USDTBench"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
  ],
  targets: [
    .systemLibrary(name: "CLibBPF", pkgConfig: "libbpf", providers: [.apt(["libbpf-dev"])]),
    .target(name: "CUSDTShims", cSettings: [.define("_GNU_SOURCE")]),
    .target(
      name: "USDT",
      dependencies: [
        "CLibBPF", "CUSDTShims",
        .product(name: "SystemPackage", package: "swift-system"),
      ]),
    .executableTarget(
      name: "USDTCommand",
      dependencies: ["USDT", "USDTConformanceKit", .product(name: "ArgumentParser", package: "swift-argument-parser")],
      path: "Sources/usdt", exclude: ["cli.mk"]),
    .executableTarget(name: "USDTBench", dependencies: ["USDT"], path: "Benchmarks/USDTBench"),
    .executableTarget(name: "USDTFuzz", dependencies: ["USDT"], path: "Fuzz/USDTFuzz"),
    .target(name: "USDTConformanceKit"),
    .testTarget(name: "USDTTests", dependencies: ["USDT", "USDTConformanceKit"], resources: [.copy("Fixtures")]),
    .testTarget(name: "Conformance", dependencies: ["USDT"]),
  ]
)
