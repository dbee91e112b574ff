// swift-tools-version: 6.0
// In-process timings of a listing's phases: `swift run -c release phasebench FILE [RUNS]` from
// this folder. A package of its own, so that the main package's build and tests never build it.
import PackageDescription

let package = Package(
  name: "phasebench",
  dependencies: [.package(name: "WeightScope", path: "../..")],
  targets: [
    .executableTarget(
      name: "phasebench",
      dependencies: [.product(name: "WeightScope", package: "WeightScope")])
  ],
  swiftLanguageModes: [.v6]
)
