#!/usr/bin/env bash
# Fuzzes the readers with libFuzzer + AddressSanitizer, one harness at a time.
#
#   tools/fuzz.sh [zip|pickle|onnx|all] [SECONDS] [extra libFuzzer flags...]
#
# Each harness in Fuzz/ is compiled with the reader sources (Core, Model, Zip, Pickle, PyTorch,
# ONNX, Scan) as one module by swiftc -sanitize=fuzzer,address, seeded from TestModels/ and the
# malformed corpus. Crashes land in .build/fuzz/artifacts/HARNESS/; replay one with
#   .build/fuzz/HARNESS-fuzzer CRASH_FILE
# and turn it into a regression test in Tests/WeightScopeScanTests/FuzzRegressionTests.swift.
set -euo pipefail
cd "$(dirname "$0")/.."
which_harness="${1:-all}"
seconds="${2:-180}"
shift $(( $# > 2 ? 2 : $# )) || true
work=.build/fuzz
mkdir -p "$work/src"

# One module: the `import WeightScope...` lines go, `import CZlib` and `import CMalloc` stay.
rm -f "$work/src"/*.swift
for target in WeightScopeCore WeightScopeModel WeightScopeZip WeightScopePickle \
  WeightScopePyTorch WeightScopeONNX WeightScopeScan; do
  find "Sources/$target" -name '*.swift' | while read -r file; do
    flat="$work/src/${target}_$(echo "${file#Sources/$target/}" | tr / _)"
    sed -E '/^(@testable )?import WeightScope[A-Za-z]*$/d' "$file" > "$flat"
  done
done

seed_dir() {
  local name=$1 dir="$work/seeds/$1"
  rm -rf "$dir" && mkdir -p "$dir"
  case $name in
    zip)
      find TestModels Tests/WeightScopeScanTests/Malformed Tests/WeightScopeZipTests/Fixtures \
        \( -name '*.pt' -o -name '*.zip' -o -name '*.ckpt' \) -size -64k -exec cp {} "$dir" \; ;;
    pickle)
      python3 - "$dir" <<'PY'
import glob, os, sys, zipfile
out = sys.argv[1]
for path in glob.glob("TestModels/*.pt") + glob.glob("TestModels/*.ckpt"):
    try:
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.endswith(".pkl") and z.getinfo(name).file_size < (1 << 20):
                    dest = os.path.basename(path) + "." + name.replace("/", "_")
                    open(os.path.join(out, dest), "wb").write(z.read(name))
    except zipfile.BadZipFile:
        pass
PY
      cp Tests/WeightScopeScanTests/Malformed/*.pkl "$dir"
      find Tests/WeightScopePickleTests/Fixtures -type f -size -64k -exec cp {} "$dir" \;
      # Three batches of a state dict's items: the two-parts reader splits between them.
      cp Tests/WeightScopePyTorchTests/Fixtures/many.data.pkl "$dir" ;;
    onnx)
      find TestModels Tests/WeightScopeScanTests/Malformed Tests/WeightScopeONNXTests/Fixtures \
        -name '*.onnx' -size -200k -exec cp {} "$dir" \; ;;
  esac
  echo "$dir"
}

run_one() {
  local name=$1 harness max_len
  shift
  case $name in
    zip) harness=Fuzz/ZipFuzz.swift max_len=16384 ;;
    pickle) harness=Fuzz/PickleFuzz.swift max_len=262144 ;;
    onnx) harness=Fuzz/ONNXFuzz.swift max_len=16384 ;;
    *) echo "unknown harness $name" >&2; exit 64 ;;
  esac
  local binary="$work/$name-fuzzer"
  echo "== building $binary"
  swiftc -parse-as-library -sanitize=fuzzer,address -O -g -module-name WeightScopeFuzz -package-name WeightScope \
    -I Sources/CZlib -I Sources/CMalloc -lz "$work"/src/*.swift "$harness" -o "$binary" 2>&1 \
    | { grep -v "Cannot export local symbol" || true; }
  local seeds corpus="$work/corpus/$name" artifacts="$work/artifacts/$name"
  seeds=$(seed_dir "$name")
  mkdir -p "$corpus" "$artifacts"
  echo "== fuzzing $name for ${seconds}s"
  "$binary" "$corpus" "$seeds" -max_total_time="$seconds" \
    -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$artifacts/" -print_final_stats=1 \
    -max_len="$max_len" "$@" \
    2>&1 | tee "$work/$name.log" | grep -E "^#[0-9]+ +(DONE|pulse)|stat::|ERROR|SUMMARY|==[0-9]+==" || true
}

if [ "$which_harness" = all ]; then
  for name in zip pickle onnx; do run_one "$name" "$@"; done
else
  run_one "$which_harness" "$@"
fi
