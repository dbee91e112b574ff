import WeightScopeCore
import WeightScopeModel
import WeightScopePickle

/// Judges the globals of one pickle, or of several pickles in a row, without running them.
///
/// Every global reached by any route (`GLOBAL`, `STACK_GLOBAL` with operands from literals or
/// the memo, `INST`, `OBJ`, `NEWOBJ`, `NEWOBJ_EX`, `EXT1/2/4`) is checked against
/// ``PickleGlobalPolicy``: anything off the allowlist is a finding, known dangerous names are
/// errors that say what loading would do. Codes start with `pickle.`.
public enum PickleScan {
  /// The findings for the pickles that start at `reader`'s position, one after another.
  ///
  /// - Parameters:
  ///   - label: names the pickle in messages (`archive/data.pkl`).
  ///   - trailing: what bytes after the last pickle mean: `.suspicious` inside a zip member
  ///     (a hiding place), `.expected` in a legacy checkpoint (raw storage data follows).
  ///   - firstRuns: the caller has already run the first pickle through ``PickleMachine``
  ///     without an error (a listing's reader did). The machine then runs again only when the
  ///     opcode walk names something to report: a clean pickle costs one walk.
  ///   - firstRun: what the caller's run of the first pickle recorded. Its globals are judged
  ///     as they are, without running the machine again; the opcode walk runs only when one
  ///     of them came through `STACK_GLOBAL`, to tell literal operands from computed ones.
  /// - Returns: the findings and the offset where the last readable pickle ended.
  public static func scan(
    _ reader: ByteReader, label: String, limits: Limits, trailing: Trailing = .suspicious,
    firstRuns: Bool = false, firstRun: FirstRun? = nil
  ) -> (findings: [Finding], end: Int) {
    var findings: [Finding] = []
    var position = reader.start
    var index = 0
    while position < reader.end {
      let name = index == 0 ? label : "\(label) (pickle \(index + 1) at \(hex(position)))"
      let slice: ByteReader
      do throws(ReadError) {
        slice = try reader.slice(at: position, count: reader.end - position)
      } catch {
        break
      }
      if index == 0, let run = firstRun {
        // The machine's globals are the ones a second run would record; only whether
        // STACK_GLOBAL's operands were literals needs the walk, and only when there is one.
        let hasStackGlobal = run.globals.contains { $0.route == .stackGlobal }
        let nonLiteral =
          hasStackGlobal ? PickleOpcodeWalk(slice, limits: limits).nonLiteralStackGlobals : []
        findings += judge(run.globals, nonLiteralStackGlobals: nonLiteral, label: name)
        position = run.end
        index += 1
        continue
      }
      let walk = PickleOpcodeWalk(slice, limits: limits)
      if index == 0, firstRuns, let end = cleanEnd(walk) {
        position = end
        index += 1
        continue
      }
      do throws(ReadError) {
        let document = try PickleMachine.run(slice, limits: limits)
        findings += judge(document.globals, walk: walk, label: name)
        position = document.endOffset
        index += 1
      } catch {
        if index == 0 || startsLikePickle(slice) {
          // Python's unpickler runs everything before the broken opcode: judge what it names.
          let uses = walk.literals.map {
            PickleGlobalUse(global: $0.global, offset: $0.offset, route: $0.route)
          }
          findings += judge(uses, walk: walk, label: name, callsKnown: false)
          findings.append(
            Finding(
              .warning, "pickle.unreadable",
              "\(name): not a readable pickle (\(error)); the globals named before that point "
                + "were still checked", offset: error.offset))
          return (findings, position)
        }
        break
      }
    }
    if position < reader.end, index > 0 {
      switch trailing {
      case .suspicious:
        findings.append(
          Finding(
            .warning, "pickle.trailing-bytes",
            "\(label): \(reader.end - position) bytes after the last pickle's STOP: data a "
              + "loader ignores, or that another reader may run", offset: position))
      case .expected:
        break
      }
    }
    return (findings, position)
  }

  /// Where a pickle the machine runs without an error ends, when its walk shows that judging
  /// the machine's globals would find nothing: it reaches STOP, follows every global (no
  /// extension code, no out-of-band buffer, no `STACK_GLOBAL` from computed operands), and
  /// every global it names is allowed. The machine records a global only where the walk
  /// names one, so its globals are then the same allowed ones.
  static func cleanEnd(_ walk: PickleOpcodeWalk) -> Int? {
    guard let end = walk.endOffset, !walk.opaque, walk.nonLiteralStackGlobals.isEmpty else {
      return nil
    }
    for literal in walk.literals {
      let global = literal.global
      guard !global.name.contains("."), global.module != "__torch__",
        !global.module.hasPrefix("__torch__."), PickleGlobalPolicy.verdict(global) == .allowed
      else { return nil }
    }
    return end
  }

  /// A pickle's run through ``PickleMachine``, done by a caller that needed it anyway.
  public struct FirstRun: Sendable, Equatable {
    /// ``PickleDocument/globals``.
    public var globals: [PickleGlobalUse]
    /// ``PickleDocument/endOffset``.
    public var end: Int

    public init(globals: [PickleGlobalUse], end: Int) {
      self.globals = globals
      self.end = end
    }
  }

  /// What bytes after the last STOP mean.
  public enum Trailing: Sendable {
    case suspicious
    case expected
  }

  /// Whether the bytes start with `PROTO 2...5`: a pickle, whatever the entry is called.
  public static func startsLikePickle(_ reader: ByteReader) -> Bool {
    guard reader.count >= 2, let first = try? reader.peekUInt8(at: reader.start),
      let version = try? reader.peekUInt8(at: reader.start + 1)
    else { return false }
    return first == 0x80 && version >= 2 && version <= 5
  }

  /// One finding per distinct global that is not on the allowlist, plus dotted names,
  /// extension codes and `STACK_GLOBAL`s whose operands were not literals.
  ///
  /// `callsKnown` is false when the uses come from the opcode walk of a broken pickle, which
  /// does not follow calls.
  static func judge(
    _ uses: [PickleGlobalUse], walk: PickleOpcodeWalk, label: String, callsKnown: Bool = true
  ) -> [Finding] {
    judge(
      uses, nonLiteralStackGlobals: walk.nonLiteralStackGlobals, label: label,
      callsKnown: callsKnown)
  }

  /// ``judge(_:walk:label:callsKnown:)`` given the offsets of the `STACK_GLOBAL`s whose
  /// operands were not literals.
  static func judge(
    _ uses: [PickleGlobalUse], nonLiteralStackGlobals: [Int], label: String,
    callsKnown: Bool = true
  ) -> [Finding] {
    var findings: [Finding] = []
    var groups: [PickleGlobal: [PickleGlobalUse]] = [:]
    var order: [PickleGlobal] = []
    for use in uses {
      if groups[use.global] == nil { order.append(use.global) }
      groups[use.global, default: []].append(use)
    }
    for global in order {
      guard let group = groups[global], let first = group.first else { continue }
      let called = group.contains(where: \.called)
      let routes = Set(group.map(\.route.rawValue)).sorted().joined(separator: "/")
      let how =
        "\(routes) at \(hex(first.offset))" + (group.count > 1 ? ", \(group.count) uses" : "")
        + (!callsKnown ? ", before the pickle breaks" : called ? ", called" : ", imported but never called")
      if first.route == .ext {
        findings.append(
          Finding(
            .warning, "pickle.extension-code",
            "\(label): extension code \(global.name) (\(how)) names a global through copyreg's "
              + "extension registry, which WeightScope cannot resolve", offset: first.offset))
        continue
      }
      if global.name.contains(".") {
        findings.append(
          Finding(
            .error, "pickle.dotted-name",
            "\(label): global \(global) (\(how)) has a dotted name: loading walks attributes "
              + "from the module and can reach any object behind it", offset: first.offset))
        continue
      }
      if global.module == "__torch__" || global.module.hasPrefix("__torch__.") {
        findings.append(
          Finding(
            .info, "pickle.torchscript-class",
            "\(label): TorchScript class \(global) (\(how)): torch.jit.load compiles it from the "
              + "archive's code/ folder", offset: first.offset))
        continue
      }
      switch PickleGlobalPolicy.verdict(global) {
      case .allowed:
        break
      case .unknown:
        findings.append(
          Finding(
            .warning, "pickle.unknown-global",
            "\(label): global \(global) (\(how)) is not on the allowlist; torch.load without "
              + "weights_only would import it" + (called ? " and call it" : ""),
            offset: first.offset))
      case .dangerous(let effect):
        findings.append(
          Finding(
            .error, "pickle.dangerous-global",
            "\(label): global \(global) (\(how)) \(effect): loading the file with pickle or "
              + "torch.load without weights_only would " + (called || !callsKnown ? "do it" : "import it"),
            offset: first.offset))
      }
    }
    for offset in nonLiteralStackGlobals {
      let resolved = uses.first { $0.offset == offset && $0.route == .stackGlobal }
      findings.append(
        Finding(
          .warning, "pickle.non-literal-stack-global",
          "\(label): STACK_GLOBAL at \(hex(offset)) takes its module and name from the memo or "
            + "computed values, not from string literals before it"
            + (resolved.map { " (resolves to \($0.global))" } ?? ""), offset: offset))
    }
    return findings
  }
}
