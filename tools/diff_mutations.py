#!/usr/bin/env python3
"""Runs two weightscope binaries over mutated copies of one checkpoint and reports any file on
which they differ (standard output, standard error or exit code) for `inspect`,
`inspect --format json` and `scan`.

For changes that must not change what a listing says: a faster path (a walk in two halves, a
reader that runs ahead) is checked against the binary before it on hundreds of broken inputs.
The mutations hit `data.pkl` (changed bytes, most of them in its second half; repeated or cut
runs of bytes; BINGET opcodes pointed at other memo entries); the archive is written again
around it, so the CRC-32 matches and the pickle itself is what is read. Standard library only.

    python3 tools/diff_mutations.py BASE_BINARY NEW_BINARY [--checkpoint tools/bench-data/pt_10k.pt]
        [--count 150] [--seed 1]

`tools/bench-data/pt_10k.pt` (10,000 tensors, large enough for the two-halves paths) is made by
`bench_listing.make_pt_many(path, 10000)`. An ONNX model (`--checkpoint tools/bench-data/onnx_30k.onnx`,
made by `bench_listing.make_onnx_many(path, 30000)`) is mutated as a whole: changed bytes, repeated
or cut runs, one initializer's name copied over another's, a `data_type` changed.
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import zipfile


def repeat_or_cut(d: bytearray, rng: random.Random, kind: str) -> None:
    """Repeats a run of up to 200 bytes right after itself, or cuts one out."""
    i = rng.randrange(len(d) - 200)
    if kind == "repeat":
        j = i + rng.randint(1, 200)
        d[j:j] = d[i:j]
    else:
        del d[i : i + rng.randint(1, 200)]


def mutate(data: bytes, rng: random.Random) -> bytes:
    d = bytearray(data)
    kind = rng.choice(["change", "change", "change", "repeat", "cut", "memo"])
    if kind == "change":
        for _ in range(rng.randint(1, 3)):
            half = rng.random() < 0.6
            i = rng.randrange(len(d) // 2 if half else 0, len(d))
            d[i] = rng.randrange(256)
    elif kind in ("repeat", "cut"):
        repeat_or_cut(d, rng, kind)
    else:
        gets = [i for i in range(len(d) - 1) if d[i] == ord("h")]
        if gets:
            d[rng.choice(gets) + 1] = rng.randrange(256)
    return bytes(d)


def mutate_onnx(data: bytes, rng: random.Random) -> bytes:
    """A mutation of an ONNX model's bytes: changed bytes anywhere, repeated or cut runs, an
    initializer's name made another's (a name defined twice), or a `data_type` changed."""
    d = bytearray(data)
    kind = rng.choice(["change", "change", "repeat", "cut", "rename", "dtype"])
    if kind == "change":
        for _ in range(rng.randint(1, 3)):
            d[rng.randrange(len(d))] = rng.randrange(256)
    elif kind in ("repeat", "cut"):
        repeat_or_cut(d, rng, kind)
    elif kind == "rename":
        # `blocks.N.pK` names of the same length: one copied over another.
        found = [i for i in range(len(d) - 16) if d[i : i + 7] == b"blocks."]
        if len(found) >= 2:
            a, b = rng.sample(found, 2)
            end_a = d.index(b"p", a + 7)
            end_b = d.index(b"p", b + 7)
            if end_a - a == end_b - b:
                d[b : end_b + 2] = d[a : end_a + 2]
    else:
        # A TensorProto's data_type (field 2, varint) right after its dims (field 1, packed).
        found = [i for i in range(len(d) - 4) if d[i] == 0x0A and d[i + 2] == 0x04 and d[i + 3] == 0x10]
        if found:
            d[rng.choice(found) + 4] = rng.choice([0, 2, 7, 8, 11, 16, 23, 40, 127])
    return bytes(d)


def run(binary: str, args: list[str]) -> tuple[bytes, bytes, int]:
    done = subprocess.run([binary, *args], capture_output=True, timeout=60)
    return done.stdout, done.stderr, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base")
    parser.add_argument("new")
    parser.add_argument("--checkpoint", default="tools/bench-data/pt_10k.pt")
    parser.add_argument("--count", type=int, default=150)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()

    onnx = not zipfile.is_zipfile(options.checkpoint)
    if onnx:
        with open(options.checkpoint, "rb") as f:
            model = f.read()
    else:
        source = zipfile.ZipFile(options.checkpoint)
        names = source.namelist()
        pickle_name = next(n for n in names if n.endswith("/data.pkl") or n == "data.pkl")
        pickle = source.read(pickle_name)
        others = [(n, source.read(n)) for n in names if n != pickle_name]
    rng = random.Random(options.seed)
    differ = 0
    codes: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "mutated.onnx" if onnx else "mutated.pt")
        for k in range(options.count):
            if onnx:
                with open(path, "wb") as out:
                    out.write(mutate_onnx(model, rng))
            else:
                with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as out:
                    out.writestr(pickle_name, mutate(pickle, rng))
                    for name, data in others:
                        out.writestr(name, data)
            for args in (["inspect", path], ["inspect", "--format", "json", path], ["scan", path]):
                base, new = run(options.base, args), run(options.new, args)
                if args == ["inspect", path]:
                    codes[new[2]] = codes.get(new[2], 0) + 1
                if base != new:
                    differ += 1
                    suffix = ".onnx" if onnx else ".pt"
                    kept = os.path.join(os.getcwd(), f"mutation-{options.seed}-{k}{suffix}")
                    os.replace(path, kept)
                    print(f"differ: {' '.join(args[:-1])} on mutation {k}, kept as {kept}")
                    break
    summary = ", ".join(f"{count} exit {code}" for code, count in sorted(codes.items()))
    print(f"{options.count} mutations, 3 commands each: {differ} differ (inspect: {summary})")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
