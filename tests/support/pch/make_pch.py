#!/usr/bin/env python3
"""tests/support/pch/make_pch.py: precompiles the tests' shared header with the flags of the TUs that use it.

Usage: make_pch.py COMPILE_COMMANDS HEADER OUT_GCH STAMP DEPFILE

g++ accepts a precompiled header only if it was built with the same compiler and the same options
that matter (macros such as NDEBUG and _FILE_OFFSET_BITS, -m options, -fPIC, sanitizers); otherwise it
parses the header text instead and -Winvalid-pch says why. Meson does not share one precompiled header
between targets, so this script reads the commands of the TUs that include HEADER (`-include NAME`, NAME
being HEADER's file name) from compile_commands.json (meson writes it at configure time), takes the most
common set of options among them, and builds OUT_GCH from HEADER with them. The TUs find OUT_GCH because
its folder comes before HEADER's in their include path. The depfile lists every header it read and
compile_commands.json itself, so a changed header or a reconfigure rebuilds it; STAMP (rewritten each
time) is what meson orders the TUs after.
"""
import collections
import json
import os
import shlex
import shutil
import subprocess
import sys


def pch_command(args, name):
    """ARGS without the source, output, dependency flags and `-include NAME`, if they have it; else None."""
    out, skip, found = [], False, False
    for i, a in enumerate(args):
        if skip:
            skip = False
            continue
        if a == "-include" and i + 1 < len(args) and args[i + 1] == name:
            found, skip = True, True
            continue
        if a in ("-o", "-MF", "-MQ", "-MT", "-c"):
            skip = True
            continue
        if a in ("-MD", "-MMD", "-fpch-deps"):
            continue
        out.append(a)
    return out if found else None


def is_define(a):
    return a.startswith("-D") or a.startswith("-U")


def main() -> int:
    commands_path, header, out_gch, stamp, depfile = sys.argv[1:6]
    name = os.path.basename(header)
    with open(commands_path) as f:
        commands = json.load(f)
    # The TUs that include the header, grouped by their options (include paths and macros aside): the
    # header is built for the largest group, so one target with an odd flag cannot make every other TU
    # refuse it, and with only the macros every TU of that group defines (g++ refuses a precompiled
    # header that saw a macro the TU lacks; boost's dependency adds -DBOOST_ALL_NO_LIB to some only).
    groups = collections.Counter()
    example, defines = {}, {}
    for entry in commands:
        args = shlex.split(entry["command"]) if "command" in entry else list(entry["arguments"])
        cmd = pch_command(args, name)
        if cmd is None:
            continue
        key = tuple(a for a in cmd if not a.startswith("-I") and not is_define(a))
        groups[key] += 1
        example.setdefault(key, (cmd, entry["directory"]))
        d = {a for a in cmd if is_define(a)}
        defines[key] = defines[key] & d if key in defines else d
    if not groups:
        print(f"make_pch.py: no command in {commands_path} includes {name}", file=sys.stderr)
        return 1
    key = groups.most_common(1)[0][0]
    cmd, cwd = example[key]
    cmd = [a for a in cmd if not is_define(a) or a in defines[key]]
    cmd += ["-x", "c++-header", os.path.abspath(header), "-o", os.path.abspath(out_gch),
            "-MD", "-MQ", out_gch, "-MF", os.path.abspath(depfile)]
    result = subprocess.run(cmd, cwd=cwd)
    if result.returncode != 0:
        return result.returncode
    with open(depfile, "a") as f:
        f.write(f"{out_gch}: {os.path.abspath(commands_path)}\n")
    with open(stamp, "w") as f:
        f.write("// built with " + shlex.join(cmd) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
