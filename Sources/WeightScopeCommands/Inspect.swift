import ArgumentParser
import WeightScope
import WeightScopeAnalysis
import WeightScopeCheck
import WeightScopeCore
import WeightScopePyTorch
import WeightScopeReport
import WeightScopeScan

/// How a report is printed.
public enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
  case text
  case json
}

/// `weightscope inspect FILE...`: every tensor and layer of each file, with counts.
public struct Inspect: ParsableCommand, OutputCommand {
  public static let configuration = CommandConfiguration(
    abstract: "List the layers, tensors and parameter counts of weight files.",
    discussion: """
      With --format json, prints one document per file (JSON Lines), as described in the
      weightscope.inspect/1 contract.
      """
  )

  @Argument(help: "Weight files: PyTorch checkpoints (.pt, .pth, .bin, .ckpt) or ONNX models.")
  var files: [String]

  @Flag(help: "Also list every tensor: name, shape, dtype, elements, bytes, role.")
  var tensors = false

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  @OptionGroup(title: "Budgets")
  var budget: BudgetOptions

  @OptionGroup var limitOptions: LimitOptions

  public init() {}

  public func validate() throws {
    if files.isEmpty { throw ValidationError("Give at least one weight file.") }
  }

  public func run() throws { try runAndExit() }

  public func execute() -> CommandOutput {
    Inspect.list(
      files, tensors: tensors, format: format, budget: budget, limits: limitOptions.limits)
  }

  /// Lists `files`; shared by the parsed command and the plain invocation, which has no budget
  /// and the default limits.
  ///
  /// With `keepLast`, the last file's mapping and analysis are handed to ``ProcessLifetime``
  /// instead of being released: the process exits right after printing, and unmapping the
  /// file or freeing a hundred thousand tensors' records one by one would only delay that.
  static func list(
    _ files: [String], tensors: Bool, format: OutputFormat, budget: BudgetOptions?,
    limits: Limits = .default, keepLast: Bool = false
  ) -> CommandOutput {
    var output = CommandOutput()
    var first = true
    for (position, path) in files.enumerated() {
      var analysis: Analysis
      do {
        let bytes = try FileBytes(path: path)
        // Unmapping a file whose headers were read costs up to a millisecond, more while
        // another thread holds the address space; the exit that follows unmaps it anyway.
        if keepLast && position == files.count - 1 { ProcessLifetime.keep(bytes) }
        var zipReads: PyTorchZipReader.Reads?
        let file = try WeightFileReader.read(bytes, path: path, limits: limits, zipReads: &zipReads)
        // The scan's pickle findings cover every pickle and route, so they replace the
        // reader's; `scan` also checks storages, which a listing never reads. It reuses the
        // listing's mapping, directory and pickle run, and runs beside the analysis.
        // Dangerous content is a failed check (exit 1), as the contract says.
        let listed = zipReads.map { reads in
          Scanner.Listed(
            archive: reads.archive,
            pickle: PickleScan.FirstRun(globals: reads.pickleGlobals, end: reads.pickleEnd))
        }
        let scanned: ScanResult?
        (analysis, scanned) = ForkJoin.run(
          split: file.tensors.count >= ForkJoin.worthwhile,
          side: { try? Scanner.scan(bytes, path: path, limits: limits, depth: .metadata, listed: listed) },
          main: { analyze(file) })
        if let scan = scanned {
          analysis.findings =
            scan.findings + analysis.findings.filter { !$0.code.hasPrefix("pickle.") }
          if scan.verdict == .dangerous { output.fail(ExitStatus.checkFailed) }
        }
      } catch {
        output.unreadable(path, error)
        continue
      }
      switch format {
      case .json:
        output.print(utf8: JSONReport.bytes(analysis, path: path))
      case .text:
        if !first { output.print("") }
        output.write(utf8: TextReport.bytes(analysis, options: TextReport.Options(tensors: tensors)))
      }
      budget?.enforce(
        BudgetSubject(analysis: analysis), label: path, json: format == .json, output: &output)
      first = false
      if keepLast && position == files.count - 1 { ProcessLifetime.keep(analysis) }
    }
    return output
  }
}
