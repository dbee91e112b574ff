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
`bench_listing.make_pt_many(path, 10000)`.
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import zipfile


def mutate(data: bytes, rng: random.Random) -> bytes:
    d = bytearray(data)
    kind = rng.choice(["change", "change", "change", "repeat", "cut", "memo"])
    if kind == "change":
        for _ in range(rng.randint(1, 3)):
            half = rng.random() < 0.6
            i = rng.randrange(len(d) // 2 if half else 0, len(d))
            d[i] = rng.randrange(256)
    elif kind == "repeat":
        i = rng.randrange(len(d) - 200)
        j = i + rng.randint(1, 200)
        d[j:j] = d[i:j]
    elif kind == "cut":
        i = rng.randrange(len(d) - 200)
        del d[i : i + rng.randint(1, 200)]
    else:
        gets = [i for i in range(len(d) - 1) if d[i] == ord("h")]
        if gets:
            d[rng.choice(gets) + 1] = rng.randrange(256)
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

    source = zipfile.ZipFile(options.checkpoint)
    names = source.namelist()
    pickle_name = next(n for n in names if n.endswith("/data.pkl") or n == "data.pkl")
    pickle = source.read(pickle_name)
    others = [(n, source.read(n)) for n in names if n != pickle_name]
    rng = random.Random(options.seed)
    differ = 0
    codes: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "mutated.pt")
        for k in range(options.count):
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
                    kept = os.path.join(os.getcwd(), f"mutation-{options.seed}-{k}.pt")
                    os.replace(path, kept)
                    print(f"differ: {' '.join(args[:-1])} on mutation {k}, kept as {kept}")
                    break
    summary = ", ".join(f"{count} exit {code}" for code, count in sorted(codes.items()))
    print(f"{options.count} mutations, 3 commands each: {differ} differ (inspect: {summary})")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
