// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "WeightScope",
  products: [
    .executable(name: "weightscope", targets: ["weightscope"]),
    .library(name: "WeightScope", targets: ["WeightScope"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    // zlib, from the system (Debian: zlib1g-dev).
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    // glibc's malloc tuning (malloc.h), which the executable turns on through HeapReserve.
    .systemLibrary(name: "CMalloc"),

    // Bytes, errors and limits shared by every reader.
    .target(name: "WeightScopeCore", dependencies: ["CMalloc"]),
    // Tensors, dtypes and findings: what every reader produces.
    .target(name: "WeightScopeModel", dependencies: ["WeightScopeCore"]),

    // Format readers.
    .target(name: "WeightScopeZip", dependencies: ["WeightScopeCore", "WeightScopeModel", "CZlib"]),
    .target(name: "WeightScopePickle", dependencies: ["WeightScopeCore"]),
    .target(
      name: "WeightScopePyTorch",
      dependencies: ["WeightScopeCore", "WeightScopeModel", "WeightScopeZip", "WeightScopePickle"]),
    .target(name: "WeightScopeONNX", dependencies: ["WeightScopeCore", "WeightScopeModel"]),

    // Security scan: every pickle and zip trick in a file, judged without running anything.
    .target(
      name: "WeightScopeScan",
      dependencies: [
        "WeightScopeCore", "WeightScopeModel", "WeightScopeZip", "WeightScopePickle",
        "WeightScopeONNX",
      ]),

    // Layers, kinds, formulas and counts, from tensors of any format.
    .target(name: "WeightScopeAnalysis", dependencies: ["WeightScopeCore", "WeightScopeModel"]),
    // Architectures the user meant: nn.Sequential source and JSON/YAML specs.
    .target(name: "WeightScopeSpec", dependencies: ["WeightScopeCore"]),
    // Specs against formulas and checkpoints: summaries, verification, budgets.
    .target(
      name: "WeightScopeCheck",
      dependencies: ["WeightScopeCore", "WeightScopeModel", "WeightScopeAnalysis", "WeightScopeSpec"]),
    // Text and JSON renderings of an analysis.
    .target(
      name: "WeightScopeReport",
      dependencies: ["WeightScopeCore", "WeightScopeModel", "WeightScopeAnalysis"]),

    // Opening a file of any supported format by its content.
    .target(
      name: "WeightScope",
      dependencies: [
        "WeightScopeCore", "WeightScopeModel", "WeightScopeZip", "WeightScopePyTorch",
        "WeightScopeONNX", "WeightScopeAnalysis",
      ]),

    // The command line, as a library so that tests run commands in-process.
    .target(
      name: "WeightScopeCommands",
      dependencies: [
        "WeightScopeCore", "WeightScope", "WeightScopeReport", "WeightScopeSpec",
        "WeightScopeCheck", "WeightScopeScan",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    // Release builds are static executables: a listing's budget includes start-up, and loading
    // and relocating shared libraries (the Swift runtime, libstdc++, libc, zlib) costs about
    // 1.5 ms at every run, and 10 ms more when they are not in the page cache. Nothing in
    // weightscope uses the glibc functions (user and group lookups) that need shared
    // libraries at run time in a static executable.
    .executableTarget(
      name: "weightscope", dependencies: ["WeightScopeCommands", "WeightScopeCore"],
      linkerSettings: [
        .unsafeFlags(
          [
            "-static-executable", "-lswiftSynchronization", "-l_FoundationCShims",
            "-l_FoundationCollections",
          ],
          .when(platforms: [.linux], configuration: .release))
      ]),

    .testTarget(name: "WeightScopeCoreTests", dependencies: ["WeightScopeCore"]),
    .testTarget(name: "WeightScopeZipTests", dependencies: ["WeightScopeZip"], exclude: ["Fixtures"]),
    .testTarget(name: "WeightScopePickleTests", dependencies: ["WeightScopePickle"], exclude: ["Fixtures"]),
    .testTarget(name: "WeightScopePyTorchTests", dependencies: ["WeightScopePyTorch"], exclude: ["Fixtures"]),
    .testTarget(name: "WeightScopeONNXTests", dependencies: ["WeightScopeONNX"], exclude: ["Fixtures"]),
    .testTarget(name: "WeightScopeAnalysisTests", dependencies: ["WeightScopeAnalysis", "WeightScopeReport"]),
    .testTarget(name: "WeightScopeSpecTests", dependencies: ["WeightScopeSpec"]),
    .testTarget(
      name: "WeightScopeCheckTests",
      dependencies: ["WeightScopeCheck", "WeightScopeSpec", "WeightScopeAnalysis"]),
    .testTarget(
      name: "WeightScopeScanTests",
      dependencies: [
        "WeightScopeScan", "WeightScope", "WeightScopeZip", "WeightScopePickle",
        "WeightScopeCommands",
      ],
      exclude: ["Malformed"]),
    .testTarget(
      name: "WeightScopeCommandsTests",
      dependencies: ["WeightScopeCommands", "WeightScope", "WeightScopeReport"]),
  ],
  swiftLanguageModes: [.v6]
)
