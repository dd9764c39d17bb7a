#!/usr/bin/env python3
"""bench/compile/compile_times.py: times the compile of translation units with 2, 4, 8 and 16-layer
ctnn networks (net*.cpp) and of the main example (src/main_job.cpp) at -O2 with the project's flags.

The flags are the ones meson uses for src/main_job.cpp in the given build directory
(compile_commands.json), with the optimisation level replaced by -O2. Each TU is compiled --reps
times under /usr/bin/time -v (Debian package `time`); the JSON written to --out holds, per TU, the
median wall and user seconds, the median peak compiler memory (max RSS, MB) and the object's size
(file bytes and text section bytes from `size`).

  bench/compile/compile_times.py --build build-h4 --out build-h4/bench-results/compile.json
"""
import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

UNITS = [
    ("2 layers: 784-128-10", os.path.join(HERE, "net2.cpp")),
    ("4 layers: 784-256-128-64-10", os.path.join(HERE, "net4.cpp")),
    ("8 layers: 8 x Dense<64,64>", os.path.join(HERE, "net8.cpp")),
    ("16 layers: 16 x Dense<64,64>", os.path.join(HERE, "net16.cpp")),
    ("main example: src/main_job.cpp", os.path.join(ROOT, "src", "main_job.cpp")),
]


def project_flags(build):
    """Compiler and flags of src/main_job.cpp in `build`, at -O2, without output/dependency options."""
    path = os.path.join(build, "compile_commands.json")
    with open(path) as f:
        cmds = json.load(f)
    for c in cmds:
        if c["file"].endswith("src/main_job.cpp"):
            args = shlex.split(c["command"])
            directory = c["directory"]
            break
    else:
        sys.exit(f"error: {path} has no entry for src/main_job.cpp (configure {build} with meson first)")
    out, skip = [], False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MQ", "-c"):
            skip = a != "-c"
            continue
        if a in ("-MD",) or a.endswith("main_job.cpp"):
            continue
        if re.fullmatch(r"-O[0-3sg]|-Ofast", a):
            continue
        if a.startswith("-I") and not os.path.isabs(a[2:]):  # relative to the build directory
            a = "-I" + os.path.normpath(os.path.join(directory, a[2:]))
        out.append(a)
    return args[0], out + ["-O2"]


def time_one(compiler, flags, src, obj):
    cmd = ["/usr/bin/time", "-v", compiler] + flags + ["-c", src, "-o", obj]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"error: compiling {src} failed:\n{r.stderr[-4000:]}")
    t = r.stderr

    def field(name):
        m = re.search(re.escape(name) + r":\s*(\S+)", t)
        if not m:
            sys.exit(f"error: /usr/bin/time output lacks '{name}'")
        return m.group(1)

    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    parts = [float(p) for p in wall.split(":")]
    wall_s = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    return {"wall_s": wall_s, "user_s": float(field("User time (seconds)")),
            "peak_mb": int(field("Maximum resident set size (kbytes)")) / 1024.0}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True, help="configured meson build directory")
    ap.add_argument("--out", required=True, help="JSON file to write")
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    compiler, flags = project_flags(a.build)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, src in UNITS:
            obj = os.path.join(tmp, os.path.basename(src) + ".o")
            runs = [time_one(compiler, flags, src, obj) for _ in range(a.reps)]
            size = subprocess.run(["size", obj], capture_output=True, text=True, check=True).stdout.split("\n")[1]
            res = {"unit": name, "source": os.path.relpath(src, ROOT), "reps": a.reps,
                   "object_bytes": os.path.getsize(obj), "text_bytes": int(size.split()[0])}
            for k in ("wall_s", "user_s", "peak_mb"):
                res[k] = statistics.median(r[k] for r in runs)
                res[k + "_all"] = [r[k] for r in runs]
            print(f"{name:34s} wall {res['wall_s']:6.2f} s  user {res['user_s']:6.2f} s  "
                  f"peak {res['peak_mb']:6.0f} MB  text {res['text_bytes'] / 1024:7.1f} KB", flush=True)
            results.append(res)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump({"compiler": compiler, "flags": " ".join(flags), "units": results}, f, indent=1)


if __name__ == "__main__":
    main()
