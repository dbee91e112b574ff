/// How a security scan judges a global a pickle referenced.
public enum PickleGlobalVerdict: Sendable, Equatable {
  /// A name `torch.save` writes for weights: a rebuild function, a storage type, a dtype.
  case allowed
  /// Not on the allowlist: loading the file would import and maybe call it.
  case unknown
  /// A name known to be used for attacks; `effect` says what loading would do.
  case dangerous(effect: String)
}

/// The allowlist of exact (module, name) pairs that `torch.save` produces, and a table of known
/// dangerous names.
///
/// The allowlist matches what PyTorch's `weights_only` unpickler accepts for plain checkpoints
/// (`torch/_weights_only_unpickler.py`, `_get_allowed_globals`). Module names written by
/// protocols 0 to 2 (`__builtin__`, `copy_reg`) are read as their Python 3 names.
public enum PickleGlobalPolicy {
  /// The verdict on `global`.
  public static func verdict(_ global: PickleGlobal) -> PickleGlobalVerdict {
    let module = python3Module(global.module)
    let normalized = PickleGlobal(module, global.name)
    if allowed.contains(normalized) { return .allowed }
    if let effect = dangerousNames[normalized] { return .dangerous(effect: effect) }
    let root = module.split(separator: ".").first.map(String.init) ?? module
    if let effect = dangerousModules[module] ?? dangerousModules[root] {
      return .dangerous(effect: effect)
    }
    return .unknown
  }

  /// Whether `global` is on the `torch.save` allowlist.
  public static func isAllowed(_ global: PickleGlobal) -> Bool { verdict(global) == .allowed }

  /// Python 2 module names that Python 3's unpickler maps to their new names.
  static func python3Module(_ module: String) -> String {
    switch module {
    case "__builtin__": "builtins"
    case "copy_reg": "copyreg"
    default: module
    }
  }

  /// PyTorch dtype names (`torch.float32` is pickled as `torch` / `float32`).
  static let dtypeNames = [
    "float64", "float32", "float16", "bfloat16", "complex32", "complex64", "complex128",
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool",
    "qint8", "quint8", "qint32", "quint4x2", "quint2x4", "bits1x8", "bits2x4", "bits4x2", "bits8",
    "bits16", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz",
    "float8_e8m0fnu", "float4_e2m1fn_x2", "bcomplex32",
    "int1", "int2", "int3", "int4", "int5", "int6", "int7",
    "uint1", "uint2", "uint3", "uint4", "uint5", "uint6", "uint7",
    // Aliases torch also accepts as attribute names.
    "float", "double", "half", "long", "int", "short", "cfloat", "cdouble", "chalf",
  ]

  /// Prefixes of the legacy typed storage and tensor class names (`FloatStorage`, `FloatTensor`).
  static let legacyTypeNames = [
    "Double", "Float", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte", "Bool",
    "ComplexDouble", "ComplexFloat", "QInt8", "QUInt8", "QInt32", "QUInt4x2", "QUInt2x4",
  ]

  static let allowed: Set<PickleGlobal> = {
    var names: Set<PickleGlobal> = [
      PickleGlobal("collections", "OrderedDict"),
      PickleGlobal("collections", "Counter"),
      PickleGlobal("torch.nn.parameter", "Parameter"),
      PickleGlobal("torch.serialization", "_get_layout"),
      PickleGlobal("torch", "Size"),
      PickleGlobal("torch", "Tensor"),
      PickleGlobal("torch", "device"),
      PickleGlobal("_codecs", "encode"),
      PickleGlobal("builtins", "bytearray"),
      PickleGlobal("builtins", "set"),
      PickleGlobal("builtins", "frozenset"),
      PickleGlobal("builtins", "complex"),
      PickleGlobal("torch.storage", "UntypedStorage"),
      PickleGlobal("torch.storage", "TypedStorage"),
      PickleGlobal("torch", "UntypedStorage"),
      PickleGlobal("torch", "TypedStorage"),
      PickleGlobal("torch._tensor", "_rebuild_from_type_v2"),
    ]
    for function in [
      "_rebuild_parameter", "_rebuild_parameter_with_state", "_rebuild_qtensor", "_rebuild_tensor",
      "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_sparse_tensor",
      "_rebuild_meta_tensor_no_storage", "_rebuild_wrapper_subclass",
      "_rebuild_device_tensor_from_numpy", "_rebuild_device_tensor_from_cpu_tensor",
      "_rebuild_nested_tensor",
    ] {
      names.insert(PickleGlobal("torch._utils", function))
    }
    for dtype in dtypeNames { names.insert(PickleGlobal("torch", dtype)) }
    for type in legacyTypeNames {
      for module in ["torch", "torch.cuda"] { names.insert(PickleGlobal(module, type + "Storage")) }
      for module in ["torch", "torch.cuda", "torch.sparse", "torch.cuda.sparse"] {
        names.insert(PickleGlobal(module, type + "Tensor"))
      }
    }
    for scheme in [
      "per_tensor_affine", "per_tensor_symmetric", "per_channel_affine", "per_channel_symmetric",
      "per_channel_affine_float_qparams",
    ] {
      names.insert(PickleGlobal("torch", scheme))
    }
    for layout in [
      "strided", "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc", "_mkldnn",
      "jagged",
    ] {
      names.insert(PickleGlobal("torch", layout))
    }
    return names
  }()

  static let dangerousNames: [PickleGlobal: String] = {
    var table: [PickleGlobal: String] = [:]
    for module in ["os", "posix", "nt"] {
      table[PickleGlobal(module, "system")] = "runs a shell command"
      table[PickleGlobal(module, "popen")] = "runs a shell command"
      for exec in [
        "execv", "execve", "execl", "execle", "execlp", "execvp", "execvpe", "spawnv", "spawnve",
        "spawnl", "posix_spawn", "posix_spawnp", "fork", "forkpty",
      ] {
        table[PickleGlobal(module, exec)] = "starts a program"
      }
      table[PickleGlobal(module, "remove")] = "deletes a file"
      table[PickleGlobal(module, "unlink")] = "deletes a file"
      table[PickleGlobal(module, "rmdir")] = "deletes a directory"
      table[PickleGlobal(module, "removedirs")] = "deletes directories"
      table[PickleGlobal(module, "rename")] = "moves a file"
      table[PickleGlobal(module, "kill")] = "sends a signal to a process"
      table[PickleGlobal(module, "putenv")] = "changes the environment"
      table[PickleGlobal(module, "chmod")] = "changes file permissions"
    }
    table[PickleGlobal("builtins", "eval")] = "evaluates Python code"
    table[PickleGlobal("builtins", "exec")] = "executes Python code"
    table[PickleGlobal("builtins", "compile")] = "compiles Python code"
    table[PickleGlobal("builtins", "getattr")] = "reaches any attribute of any object"
    table[PickleGlobal("builtins", "setattr")] = "changes any attribute of any object"
    table[PickleGlobal("builtins", "delattr")] = "deletes any attribute of any object"
    table[PickleGlobal("builtins", "__import__")] = "imports any module"
    table[PickleGlobal("builtins", "open")] = "opens a file"
    table[PickleGlobal("builtins", "globals")] = "reaches the interpreter's globals"
    table[PickleGlobal("builtins", "vars")] = "reaches any object's attributes"
    table[PickleGlobal("builtins", "breakpoint")] = "starts a debugger"
    table[PickleGlobal("builtins", "input")] = "reads from the terminal"
    table[PickleGlobal("pty", "spawn")] = "starts a program on a terminal"
    table[PickleGlobal("marshal", "loads")] = "loads compiled Python code"
    table[PickleGlobal("pickle", "loads")] = "unpickles nested data without restriction"
    table[PickleGlobal("pickle", "load")] = "unpickles nested data without restriction"
    table[PickleGlobal("_pickle", "loads")] = "unpickles nested data without restriction"
    table[PickleGlobal("_pickle", "load")] = "unpickles nested data without restriction"
    table[PickleGlobal("dill", "loads")] = "unpickles nested data without restriction"
    table[PickleGlobal("torch", "load")] = "loads a nested checkpoint"
    table[PickleGlobal("torch.serialization", "load")] = "loads a nested checkpoint"
    table[PickleGlobal("numpy", "load")] = "loads a nested file, possibly a pickle"
    table[PickleGlobal("webbrowser", "open")] = "opens a web page"
    table[PickleGlobal("webbrowser", "open_new")] = "opens a web page"
    table[PickleGlobal("webbrowser", "open_new_tab")] = "opens a web page"
    table[PickleGlobal("shutil", "rmtree")] = "deletes a directory tree"
    table[PickleGlobal("shutil", "move")] = "moves files"
    table[PickleGlobal("shutil", "copyfile")] = "copies files"
    table[PickleGlobal("code", "interact")] = "starts an interactive interpreter"
    table[PickleGlobal("operator", "attrgetter")] = "reaches any attribute of any object"
    table[PickleGlobal("operator", "methodcaller")] = "calls any method of any object"
    table[PickleGlobal("functools", "partial")] = "builds calls to arbitrary functions"
    table[PickleGlobal("sys", "exit")] = "ends the loading process"
    table[PickleGlobal("timeit", "timeit")] = "executes Python code"
    table[PickleGlobal("cProfile", "run")] = "executes Python code"
    table[PickleGlobal("pdb", "run")] = "executes Python code"
    table[PickleGlobal("asyncio.subprocess", "create_subprocess_shell")] = "runs a shell command"
    table[PickleGlobal("torch.hub", "load")] = "downloads and runs code"
    table[PickleGlobal("torch.hub", "load_state_dict_from_url")] = "downloads a file"
    return table
  }()

  /// Modules every name of which is dangerous.
  static let dangerousModules: [String: String] = [
    "subprocess": "runs a program",
    "runpy": "runs a Python module or file",
    "ctypes": "calls native code",
    "importlib": "imports any module",
    "socket": "opens a network connection",
    "http": "makes network requests",
    "urllib": "makes network requests",
    "requests": "makes network requests",
    "ftplib": "makes network requests",
    "smtplib": "sends mail",
    "telnetlib": "opens a network connection",
    "multiprocessing": "starts processes",
    "pty": "starts a program on a terminal",
    "signal": "changes signal handling",
    "_posixsubprocess": "starts a program",
    "nt": "calls the operating system",
    "posix": "calls the operating system",
  ]
}
