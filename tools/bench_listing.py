#!/usr/bin/env python3
"""Benchmarks listing a weight file's tensors: weightscope against the Python tools.

Makes the benchmark files once (in --data, default tools/bench-data) and times,
for each file, a fresh process per run (start-up included), reporting the best
and median wall time and the peak RSS of the child:

  weightscope       weightscope inspect FILE             (only with --tool)
  weightscope-json  weightscope inspect --format json FILE
  torch.load        torch.load(f, mmap=True, weights_only=True)  (PyTorch files)
  py-reader         tools/bench_python_reader.py FILE (zip directory + restricted unpickler)
  onnx.load         onnx.load(f, load_external_data=False)        (ONNX files)
  python-startup    python -c pass, and `import torch` / `import onnx`: the floor
                    under the Python rows

Peak RSS is GNU time's %M (/usr/bin/time must exist); the 'launcher' row
(/bin/true) is the overhead included in every wall time. Warm runs follow one
untimed run; cold runs drop the page cache first, with
`echo 3 > /proc/sys/vm/drop_caches` when writable (whole machine) or else
posix_fadvise(POSIX_FADV_DONTNEED) on the file(s) of the case.

Needs torch and onnx (for making files and for their rows):
    /path/to/venv/bin/python tools/bench_listing.py [--tool .build/release/weightscope]
        [--cases pt-2g onnx-100k ...] [--runs 10] [--cold-runs 3] [--no-cold] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MiB = 1024 * 1024

# name: (file, kind, size note, target ms, target MiB)
CASES = {
    "pt-500m": ("pt_500m.pt", "pytorch", "~0.5 GB, 500 tensors", None, None),
    "pt-2g": ("pt_2g.pt", "pytorch", "~2 GB, 600 tensors", 10, 20),
    "pt-100k": ("pt_100k.pt", "pytorch", "100,000 tensors", 100, None),
    "onnx-500m": ("onnx_500m.onnx", "onnx", "~0.5 GB inline, 1000 initializers", 10, 20),
    "onnx-500m-ext": ("onnx_500m_ext.onnx", "onnx", "~0.5 GB external data", 10, 20),
    "onnx-100k": ("onnx_100k.onnx", "onnx", "100,000 initializers", 100, None),
}


# ---------------------------------------------------------------------------
# Making the files
# ---------------------------------------------------------------------------


def make_pt(path, layers, out_f, in_f):
    import torch
    sd = {}
    for i in range(layers):
        sd[f"layers.{i}.weight"] = torch.empty(out_f, in_f)
        sd[f"layers.{i}.bias"] = torch.zeros(out_f)
    torch.save(sd, path)


def make_pt_many(path, n):
    import torch
    sd = {f"blocks.{i // 10}.p{i % 10}": torch.zeros(4) for i in range(n)}
    torch.save(sd, path)


def gemm_chain(layers, width, external=None):
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper
    inits, nodes = [], []
    x = "x"
    for i in range(layers):
        w = numpy_helper.from_array(np.zeros((width, width), np.float32), f"layers.{i}.weight")
        b = numpy_helper.from_array(np.zeros((width,), np.float32), f"layers.{i}.bias")
        inits += [w, b]
        y = f"h{i}"
        nodes.append(helper.make_node("Gemm", [x, w.name, b.name], [y], name=f"gemm{i}",
                                      transB=1))
        x = y
    graph = helper.make_graph(
        nodes, "bench", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, width])],
        [helper.make_tensor_value_info(x, onnx.TensorProto.FLOAT, [1, width])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def make_onnx(path, external):
    import onnx
    model = gemm_chain(500, 512)  # 500 x (1 MiB + 2 KiB)
    if external:
        loc = os.path.basename(path) + ".data"
        if os.path.exists(path + ".data"):
            os.remove(path + ".data")
        cwd = os.getcwd()
        os.chdir(os.path.dirname(path))
        try:
            onnx.save_model(model, os.path.basename(path), save_as_external_data=True,
                            all_tensors_to_one_file=True, location=loc, size_threshold=0)
        finally:
            os.chdir(cwd)
    else:
        onnx.save_model(model, path)


def make_onnx_many(path, n):
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper
    inits, nodes = [], []
    x = "x"
    for i in range(n):
        t = numpy_helper.from_array(np.zeros((4,), np.float32), f"blocks.{i // 10}.p{i % 10}")
        inits.append(t)
        y = f"a{i}"
        nodes.append(helper.make_node("Add", [x, t.name], [y], name=f"add{i}"))
        x = y
    graph = helper.make_graph(
        nodes, "bench_many", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info(x, onnx.TensorProto.FLOAT, [4])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save_model(model, path)


MAKERS = {
    "pt-500m": lambda p: make_pt(p, 250, 1024, 512),     # 250 x 2 MiB
    "pt-2g": lambda p: make_pt(p, 300, 2048, 896),       # 300 x 7 MiB
    "pt-100k": lambda p: make_pt_many(p, 100_000),
    "onnx-500m": lambda p: make_onnx(p, external=False),
    "onnx-500m-ext": lambda p: make_onnx(p, external=True),
    "onnx-100k": lambda p: make_onnx_many(p, 100_000),
}


def ensure(case, data_dir):
    path = os.path.join(data_dir, CASES[case][0])
    if not os.path.exists(path):
        t0 = time.perf_counter()
        print(f"making {path} ...", file=sys.stderr, flush=True)
        MAKERS[case](path)
        print(f"  done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return path


# ---------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------


def drop_cache_method():
    try:
        with open("/proc/sys/vm/drop_caches", "w"):
            pass
        return "drop_caches"
    except OSError:
        return "fadvise"


def drop_cache(method, files):
    if method == "drop_caches":
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    else:
        for p in files:
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            except OSError:
                pass
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)


GNU_TIME = "/usr/bin/time"


def run_once(argv):
    """Wall seconds, peak RSS bytes and exit status of one fresh child process.

    The RSS comes from GNU time's %M: Linux counts the pre-exec address space
    in ru_maxrss, so a child forked straight from this (large) Python process
    would report this process's size; GNU time is small and forks the command
    itself. Its own fork+exec is included in the wall time (see the
    'launcher' row).
    """
    fd, out = tempfile.mkstemp(prefix="bench-rss-")
    os.close(fd)
    try:
        t0 = time.perf_counter()
        proc = subprocess.run([GNU_TIME, "-f", "%M", "-o", out, *argv],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - t0
        with open(out) as f:
            lines = f.read().split()
        rss_kib = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    finally:
        os.remove(out)
    return wall, rss_kib * 1024, proc.returncode, proc.stderr.decode(errors="replace")


def measure(argv, runs, cold, method, files):
    walls, rss = [], []
    if not cold:
        _, _, rc, err = run_once(argv)  # warm the cache and the binary
        if rc != 0:
            return {"error": f"exit {rc}: {err.strip()[-300:]}"}
    for _ in range(runs):
        if cold:
            drop_cache(method, files)
        w, r, rc, err = run_once(argv)
        if rc != 0:
            return {"error": f"exit {rc}: {err.strip()[-300:]}"}
        walls.append(w)
        rss.append(r)
    return {"best_ms": min(walls) * 1e3, "median_ms": statistics.median(walls) * 1e3,
            "peak_rss_mib": max(rss) / MiB, "runs": runs}


def commands(case, path, tool, py):
    kind = CASES[case][1]
    cmds = []
    if tool:
        cmds.append(("weightscope", [tool, "inspect", path]))
        cmds.append(("weightscope-json", [tool, "inspect", "--format", "json", path]))
    if py is None:
        return cmds
    if kind == "pytorch":
        cmds.append(("torch.load", [py, "-c", "import sys, torch; "
                                    "torch.load(sys.argv[1], mmap=True, weights_only=True)",
                                    path]))
        cmds.append(("py-reader", [py, os.path.join(HERE, "bench_python_reader.py"), path]))
    else:
        cmds.append(("onnx.load", [py, "-c", "import sys, onnx; "
                                   "onnx.load(sys.argv[1], load_external_data=False)", path]))
    return cmds


def case_files(path):
    files = [path]
    if os.path.exists(path + ".data"):
        files.append(path + ".data")
    return files


def main():
    ap = argparse.ArgumentParser(description="Benchmark listing speed and memory.")
    ap.add_argument("--tool", help="path to the weightscope binary (column skipped if omitted)")
    ap.add_argument("--data", default=os.path.join(HERE, "bench-data"))
    ap.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    ap.add_argument("--runs", type=int, default=10, help="warm runs per command")
    ap.add_argument("--cold-runs", type=int, default=3, help="cold runs per command")
    ap.add_argument("--no-cold", action="store_true")
    ap.add_argument("--cold-method", choices=["auto", "drop_caches", "fadvise"], default="auto")
    ap.add_argument("--python", default=sys.executable, help="python for the Python rows")
    ap.add_argument("--no-python", action="store_true",
                    help="time weightscope only, without the Python rows (they take minutes)")
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()

    os.makedirs(a.data, exist_ok=True)
    method = drop_cache_method() if a.cold_method == "auto" else a.cold_method
    tool = os.path.abspath(a.tool) if a.tool else None
    results = []

    if not os.access(GNU_TIME, os.X_OK):
        raise SystemExit(f"{GNU_TIME} (GNU time) is needed for peak RSS")
    base = measure(["/bin/true"], a.runs, False, method, [])
    results.append({"case": "-", "tool": "launcher", "mode": "warm", **base})
    kinds = {CASES[c][1] for c in a.cases}
    if not a.no_python:
        base = measure([a.python, "-c", "pass"], a.runs, False, method, [])
        results.append({"case": "-", "tool": "python-startup", "mode": "warm", **base})
    else:
        kinds = set()
    for kind, module in (("pytorch", "torch"), ("onnx", "onnx")):
        if kind in kinds:
            base = measure([a.python, "-c", f"import {module}"], a.runs, False, method, [])
            results.append({"case": "-", "tool": f"import {module}", "mode": "warm", **base})

    for case in a.cases:
        path = ensure(case, a.data)
        files = case_files(path)
        size = sum(os.path.getsize(f) for f in files)
        modes = [("warm", False, a.runs)] + ([] if a.no_cold else [("cold", True, a.cold_runs)])
        for name, argv in commands(case, path, tool, None if a.no_python else a.python):
            for mode, cold, runs in modes:
                r = measure(argv, runs, cold, method, files)
                results.append({"case": case, "file": os.path.basename(path), "bytes": size,
                                "tool": name, "mode": mode, **r})
                print_row(results[-1], flush=True)

    print()
    print(f"cold cache: {method}" + (" (whole machine)" if method == "drop_caches" else
                                     " (the case's files only)"))
    print_table(results)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"cold_method": method, "results": results}, f, indent=1)


def target_check(r):
    case = CASES.get(r["case"])
    if case is None or not r["tool"].startswith("weightscope") or "error" in r:
        return ""
    _, _, _, t_ms, t_mib = case
    if r["mode"] != "warm":
        return ""
    ok = (t_ms is None or r["median_ms"] <= t_ms) and (t_mib is None or r["peak_rss_mib"] <= t_mib)
    goal = " / ".join(x for x in [f"<= {t_ms} ms" if t_ms else "",
                                  f"<= {t_mib} MiB" if t_mib else ""] if x)
    return f"{'PASS' if ok else 'FAIL'} ({goal})" if goal else ""


def print_row(r, flush=False):
    print(f"# {r['case']:<14} {r['tool']:<17} {r['mode']:<5} " +
          (r["error"] if "error" in r else
           f"best {r['best_ms']:8.1f} ms  median {r['median_ms']:8.1f} ms  "
           f"rss {r['peak_rss_mib']:7.1f} MiB"), file=sys.stderr, flush=flush)


def print_table(results):
    hdr = f"{'case':<14} {'size':>9} {'tool':<17} {'mode':<5} {'best ms':>9} {'median ms':>10} " \
          f"{'peak RSS MiB':>12}  target"
    print(hdr)
    print("-" * len(hdr))
    for r in results:
        size = f"{r['bytes'] / MiB:.0f} MiB" if "bytes" in r else ""
        if "error" in r:
            print(f"{r['case']:<14} {size:>9} {r['tool']:<17} {r['mode']:<5} {r['error']}")
            continue
        print(f"{r['case']:<14} {size:>9} {r['tool']:<17} {r['mode']:<5} {r['best_ms']:9.1f} "
              f"{r['median_ms']:10.1f} {r['peak_rss_mib']:12.1f}  {target_check(r)}")
    print()
    print("targets (weightscope, warm median): pt-2g <= 10 ms and <= 20 MiB; pt-100k <= 100 ms; "
          "onnx-500m(-ext) <= 10 ms and <= 20 MiB; onnx-100k <= 100 ms")


if __name__ == "__main__":
    main()
