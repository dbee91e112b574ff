import Testing
import WeightScopeCore

@testable import WeightScopePickle

@Suite struct PickleMachineTests {
  @Test func protocol2DictOfIntsAndStrings() throws {
    // {'a': 1, 'b': [2, 'x']}
    let bytes = pickle(
      UInt8(0x80), UInt8(2), "}q", UInt8(0), "(X", [1, 0, 0, 0] as [UInt8], "aK", UInt8(1),
      "X", [1, 0, 0, 0] as [UInt8], "b]q", UInt8(1), "(K", UInt8(2), "U", UInt8(1), "xeu.")
    let document = try run(bytes)
    #expect(document.protocolVersion == 2)
    #expect(render(document, document.root) == "{s'a':1,s'b':[2,s'x']}")
  }

  @Test func memoAliasingSharesTheList() throws {
    // L = []; t = (L, L); L.append(7); result t
    let bytes = pickle(
      "]q", UInt8(0), "h", UInt8(0), PickleOpcode.TUPLE2, "h", UInt8(0), "K", UInt8(7), "a0.")
    let document = try run(bytes)
    #expect(render(document, document.root) == "([7],[7])")
    let items = try #require(document.sequence(document.root))
    #expect(items[0] == items[1])
  }

  @Test func setItemsAfterMemoizationChangeTheSharedDict() throws {
    // d = {}; r = [d]; d['k'] = None (through the memo); result r
    let bytes = pickle("}q", UInt8(0), "(h", UInt8(0), "l", "h", UInt8(0), "(U", UInt8(1), "kNu0.")
    let document = try run(bytes)
    #expect(render(document, document.root) == "[{s'k':None}]")
  }

  @Test func repeatedKeysKeepTheirFirstPlaceAndTakeTheLastValue() throws {
    // {'a': 1, 'b': 2, 'a': 3} -> {'a': 3, 'b': 2}, as Python builds it; 1 and True stay apart.
    let small = pickle(
      "}(U", UInt8(1), "aK", UInt8(1), "U", UInt8(1), "bK", UInt8(2), "U", UInt8(1), "aK",
      UInt8(3), "K", UInt8(1), "N", PickleOpcode.NEWTRUE, "Nu.")
    #expect(render(try run(small), try run(small).root) == "{s'a':3,s'b':2,1:None,True:None}")

    // A dict large enough for the sorted-hash check, with one key repeated far apart.
    var large = pickle("}(")
    for i in 0..<200 {
      let key = Array("k\(i)".utf8)
      large += pickle("U", UInt8(key.count), key, "K", UInt8(i % 200))
    }
    large += pickle("U", UInt8(2), "k7", "K", UInt8(250), "u.")
    let document = try run(large)
    let entries = try #require(document.node(document.root).flatMap { node -> PickleDictEntries? in
      if case .dict(let entries) = node { return entries }
      return nil
    })
    #expect(entries.count == 200)
    #expect(entries[7].key == .string("k7") && entries[7].value == .int(250))
    #expect(entries[8].key == .string("k8") && entries[8].value == .int(8))
  }

  @Test func integersAtTheEdgeOfTheInlineRangeKeepTheirValues() throws {
    // (2**60 - 1, 2**60, -2**60, -2**60 - 1, 2.5) as LONG1 and BINFLOAT.
    func long1(_ bytes: [UInt8]) -> [UInt8] { [PickleOpcode.LONG1.rawValue, UInt8(bytes.count)] + bytes }
    let bytes = pickle(
      "(", long1([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      long1([0, 0, 0, 0, 0, 0, 0, 0x10]), long1([0, 0, 0, 0, 0, 0, 0, 0xf0]),
      long1([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xef]),
      "G", [0x40, 0x04, 0, 0, 0, 0, 0, 0] as [UInt8], "t.")
    let document = try run(bytes)
    let items = try #require(document.sequence(document.root))
    let edge: Int64 = 1 << 60
    let expected: [PickleValue] = [
      .int(edge - 1), .int(edge), .int(-edge), .int(-edge - 1), .float(2.5),
    ]
    #expect(Array(items) == expected)
  }

  @Test func cyclicListRendersWithoutLooping() throws {
    // L = []; L.append(L)
    let document = try run(pickle("]q", UInt8(0), "h", UInt8(0), "a."))
    #expect(document.describe(document.root) == "[<cycle>]")
  }

  @Test func reduceAndBuildDescribeTheCallWithoutMakingIt() throws {
    // os.system('x') via GLOBAL + REDUCE; then a NEWOBJ with BUILD state.
    let bytes = pickle(
      "(cos\nsystem\nU", UInt8(1), "x", PickleOpcode.TUPLE1, "R", "c__main__\nFoo\n)",
      PickleOpcode.NEWOBJ, "}U", UInt8(1), "aK", UInt8(1), "sbl.")
    let document = try run(bytes)
    let items = try #require(document.sequence(document.root))
    guard case .object(let call)? = document.node(items[0]),
      case .object(let foo)? = document.node(items[1])
    else {
      Issue.record("expected two objects")
      return
    }
    #expect(call.construction == .reduce)
    #expect(call.callableGlobal == PickleGlobal("os", "system"))
    #expect(document.sequence(call.arguments).map(Array.init) == [.string("x")])
    #expect(foo.construction == .newobj)
    #expect(render(document, try #require(foo.state)) == "{s'a':1}")
    #expect(
      document.globals == [
        PickleGlobalUse(
          global: PickleGlobal("os", "system"), offset: 1, route: .global, called: true),
        PickleGlobalUse(
          global: PickleGlobal("__main__", "Foo"), offset: 17, route: .global, called: true),
      ])
  }

  @Test func everyGlobalRouteIsRecorded() throws {
    let bytes = pickle(
      "(",
      // STACK_GLOBAL, not called.
      PickleOpcode.SHORT_BINUNICODE, UInt8(8), "builtins", PickleOpcode.SHORT_BINUNICODE, UInt8(4),
      "eval",
      PickleOpcode.STACK_GLOBAL,
      // INST, called.
      "(K", UInt8(1), "isubprocess\nPopen\n",
      // OBJ with a GLOBAL class.
      "(cposix\nsystem\nK", UInt8(2), "o",
      // EXT1.
      PickleOpcode.EXT1, UInt8(9),
      "l.")
    let document = try run(bytes)
    #expect(document.globals.map(\.route) == [.stackGlobal, .inst, .global, .ext])
    #expect(document.globals.map(\.called) == [false, true, true, false])
    #expect(
      document.globals.map(\.global.description) == [
        "builtins.eval", "subprocess.Popen", "posix.system", "copyreg._extension_registry.9",
      ])
    #expect(document.globals.map(\.offset) == [17, 21, 40, 57])
  }

  @Test func persistentIDsStayValues() throws {
    let bytes = pickle("(P12\nU", UInt8(3), "key", PickleOpcode.TUPLE1, "Ql.")
    let document = try run(bytes)
    #expect(render(document, document.root) == "[pid(s'12'),pid((s'key'))]")
  }

  @Test func textualOpcodesOfProtocol0() throws {
    let bytes = pickle(
      "(I01\nI00\nI-12\nL123456789012345678901234567890L\nF-2.5\nS'a\\'b\\n\\x41\\101'\n",
      "Vcaf\\u00e9\nP1\np0\ng0\nl.")
    let document = try run(bytes)
    #expect(
      render(document, document.root)
        == "[True,False,-12,123456789012345678901234567890,-2.5,s'a'b\nAA',s'café',pid(s'1'),pid(s'1')]"
    )
    let items = try #require(document.sequence(document.root))
    #expect(items.count == 9)
    #expect(
      Array(items.prefix(7)) == [
        .bool(true), .bool(false), .int(-12), items[3], .float(-2.5), .string("a'b\nAA"),
        .string("café"),
      ])
    #expect(render(document, items[3]) == "123456789012345678901234567890")
  }

  @Test func longIntegersKeepTheirValue() throws {
    let cases: [([UInt8], String)] = [
      ([], "0"), ([0xff], "-1"), ([0x00, 0x80], "-32768"), ([0x00, 0x80, 0x00], "32768"),
      ([0xff, 0x7f], "32767"),
      ([0, 0, 0, 0, 0, 0, 0, 0x80], "-9223372036854775808"),
      ([0, 0, 0, 0, 0, 0, 0, 0x80, 0], "9223372036854775808"),
      ([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff], "-9223372036854775809"),
    ]
    for (payload, decimal) in cases {
      let document = try run(pickle(PickleOpcode.LONG1, UInt8(payload.count), payload, "."))
      #expect(render(document, document.root) == decimal)
    }
  }

  @Test func framesAndMemoizeOfProtocol4() throws {
    let body = pickle(PickleOpcode.EMPTY_LIST, PickleOpcode.MEMOIZE, "h", UInt8(0), "a.")
    let bytes = pickle(
      UInt8(0x80), UInt8(4), PickleOpcode.FRAME, [UInt8(body.count), 0, 0, 0, 0, 0, 0, 0], body)
    let document = try run(bytes)
    #expect(document.describe(document.root) == "[<cycle>]")
  }

  // MARK: Errors

  @Test func undefinedMemoIndexNamesOffsetAndOpcode() {
    let failure = error { () throws(ReadError) in
      _ = try run(pickle(UInt8(0x80), UInt8(2), "N0h", UInt8(0xe2), "."))
    }
    #expect(failure?.kind == .malformed)
    #expect(failure?.offset == 4)
    #expect(failure?.context == "opcode BINGET")
    #expect(failure?.message == "memo index 226 not defined")
    #expect(
      failure?.within("data.pkl").description
        == "data.pkl: opcode BINGET at 0x4: memo index 226 not defined")
  }

  @Test func malformedPicklesFailClearly() {
    let cases: [([UInt8], ReadError.Kind, Int, String)] = [
      (pickle("\u{7}"), .malformed, 0, "unknown opcode"),
      (pickle("R."), .malformed, 0, "stack underflow"),
      (pickle("N(R."), .malformed, 2, "stack underflow (at a MARK)"),
      (pickle("Nt."), .malformed, 1, "no MARK"),
      (pickle("(K", UInt8(1), "d."), .malformed, 3, "odd number"),
      (pickle("NN", PickleOpcode.STACK_GLOBAL, "."), .malformed, 2, "not strings"),
      (pickle("N]R."), .malformed, 2, "are a list, not a tuple"),
      (pickle("K", UInt8(1), "Nb."), .unsupported, 3, "BUILD on an int"),
      (pickle(UInt8(0x80), UInt8(6), "N."), .unsupported, 0, "protocol 6"),
      (pickle(PickleOpcode.NEXT_BUFFER, "."), .unsupported, 0, "out-of-band"),
      (pickle("N"), .truncated, 1, "without STOP"),
      (pickle("X", [5, 0, 0, 0] as [UInt8], "ab"), .truncated, 0, "5 bytes, 2 left"),
      (pickle("T", [0xff, 0xff, 0xff, 0xff] as [UInt8]), .malformed, 0, "negative"),
      (
        pickle(PickleOpcode.FRAME, [9, 0, 0, 0, 0, 0, 0, 0] as [UInt8], "N."), .truncated, 0,
        "frame"
      ),
      (pickle("Iabc\n."), .malformed, 0, "not an integer"),
      (pickle("S'abc\n."), .malformed, 0, "not quoted"),
      (pickle("I12"), .truncated, 0, "no newline"),
      (pickle(PickleOpcode.EXT2, [0, 0] as [UInt8], "."), .malformed, 0, "not positive"),
      (pickle("NI", String(repeating: "9", count: 5000), "\n."), .unsupported, 1, "4300 digits"),
    ]
    for (bytes, kind, offset, text) in cases {
      let failure = error { () throws(ReadError) in _ = try run(bytes) }
      #expect(failure?.kind == kind, "\(bytes): \(String(describing: failure))")
      #expect(failure?.offset == offset, "\(bytes): \(String(describing: failure))")
      #expect(failure?.message.contains(text) == true, "\(bytes): \(String(describing: failure))")
    }
  }

  // MARK: Limits

  @Test func opcodeLimit() {
    var limits = Limits()
    limits.pickleOpcodes = 2
    #expect(error { () throws(ReadError) in _ = try run(pickle("N."), limits: limits) } == nil)
    let failure = error { () throws(ReadError) in _ = try run(pickle("NNN."), limits: limits) }
    #expect(failure?.kind == .limitExceeded)
    #expect(failure?.offset == 2)
  }

  @Test func stackDepthLimit() {
    var limits = Limits()
    limits.pickleStackDepth = 4
    let failure = error { () throws(ReadError) in _ = try run(pickle("NNNNN."), limits: limits) }
    #expect(failure?.kind == .limitExceeded)
    #expect(failure?.offset == 4)
  }

  @Test func markDepthLimit() {
    var limits = Limits()
    limits.pickleMarkDepth = 2
    let failure = error { () throws(ReadError) in _ = try run(pickle("(((."), limits: limits) }
    #expect(failure?.kind == .limitExceeded)
    #expect(failure?.offset == 2)
    #expect(failure?.context == "opcode MARK")
  }

  @Test func memoEntriesLimit() {
    var limits = Limits()
    limits.pickleMemoEntries = 2
    // Rewriting an existing index is allowed; a third distinct one is not.
    let ok = pickle("Nq", UInt8(0), "q", UInt8(1), "q", UInt8(1), ".")
    #expect(error { () throws(ReadError) in _ = try run(ok, limits: limits) } == nil)
    let failure = error { () throws(ReadError) in
      _ = try run(pickle("Nq", UInt8(0), "q", UInt8(1), "q", UInt8(2), "."), limits: limits)
    }
    #expect(failure?.kind == .limitExceeded)
    #expect(failure?.offset == 5)
  }

  @Test func stringLengthIsCheckedBeforeReading() {
    var limits = Limits()
    limits.pickleStringBytes = 16
    // A claimed 4 GiB string with 3 bytes present: the limit trips before any allocation.
    let huge = pickle(PickleOpcode.BINBYTES8, [0, 0, 0, 0, 1, 0, 0, 0] as [UInt8], "abc.")
    let failure = error { () throws(ReadError) in _ = try run(huge, limits: limits) }
    #expect(failure?.kind == .limitExceeded)
    #expect(failure?.offset == 0)
    let long = pickle("X", [17, 0, 0, 0] as [UInt8], String(repeating: "a", count: 17), ".")
    #expect(
      error { () throws(ReadError) in _ = try run(long, limits: limits) }?.kind == .limitExceeded)
    let line = pickle("V", String(repeating: "a", count: 40), "\n.")
    #expect(
      error { () throws(ReadError) in _ = try run(line, limits: limits) }?.kind == .limitExceeded)
    let fits = pickle("X", [16, 0, 0, 0] as [UInt8], String(repeating: "a", count: 16), ".")
    #expect(error { () throws(ReadError) in _ = try run(fits, limits: limits) } == nil)
  }

  /// L0 = []; L(i+1) = [Li] * 10, 60 levels deep: 10^60 elements if expanded, which would not
  /// end; the time limit turns that into a failure.
  @Test(.timeLimit(.minutes(1))) func billionLaughsStaysSmall() throws {
    var bytes = pickle(UInt8(0x80), UInt8(2), "]r", [0, 0, 0, 0] as [UInt8])
    for level in 0..<60 {
      bytes += pickle("(")
      for _ in 0..<10 { bytes += pickle("j", [UInt8(level), 0, 0, 0]) }
      bytes += pickle("lr", [UInt8(level + 1), 0, 0, 0])
    }
    bytes += pickle(".")
    let document = try run(bytes)
    let text = document.describe(document.root, budget: 1000)
    #expect(document.nodes.count == 61)
    #expect(text.count < 10_000)
  }

  // MARK: Global policy

  @Test func globalVerdicts() {
    #expect(
      PickleGlobalPolicy.verdict(PickleGlobal("torch._utils", "_rebuild_tensor_v2")) == .allowed)
    #expect(PickleGlobalPolicy.verdict(PickleGlobal("torch", "BFloat16Storage")) == .allowed)
    #expect(PickleGlobalPolicy.verdict(PickleGlobal("torch", "float8_e4m3fn")) == .allowed)
    #expect(PickleGlobalPolicy.verdict(PickleGlobal("collections", "OrderedDict")) == .allowed)
    #expect(PickleGlobalPolicy.verdict(PickleGlobal("__builtin__", "set")) == .allowed)
    #expect(
      PickleGlobalPolicy.verdict(PickleGlobal("os", "system"))
        == .dangerous(effect: "runs a shell command"))
    #expect(
      PickleGlobalPolicy.verdict(PickleGlobal("__builtin__", "eval"))
        == .dangerous(effect: "evaluates Python code"))
    #expect(
      PickleGlobalPolicy.verdict(PickleGlobal("subprocess", "check_output"))
        == .dangerous(effect: "runs a program"))
    #expect(
      PickleGlobalPolicy.verdict(PickleGlobal("importlib.util", "find_spec"))
        == .dangerous(effect: "imports any module"))
    #expect(PickleGlobalPolicy.verdict(PickleGlobal("torch.nn.modules.conv", "Conv2d")) == .unknown)
    #expect(PickleGlobalPolicy.verdict(PickleGlobal("torch", "system")) == .unknown)
    #expect(
      PickleGlobalPolicy.verdict(PickleGlobal("numpy.core.multiarray", "_reconstruct")) == .unknown)
  }

  @Test func everyOpcodeHasItsPickletoolsName() {
    #expect(PickleOpcode.allCases.count == 68)
    #expect(PickleOpcode.SHORT_BINUNICODE.name == "SHORT_BINUNICODE")
    #expect(PickleOpcode(rawValue: 0x95) == .FRAME)
  }
}
