#!/usr/bin/python3
"""Fails when an #include in src/ breaks the layering rules.

Rules (docs/ARCHITECTURE-NOTES.md, "Layers"):
  1. A file in src/<area>/ includes only its own area or a strictly lower
     one (LAYERS below; areas on one rank do not include each other).
  2. An <area>/internal/ header is included only from inside src/<area>/.
  3. No public header (a .h outside internal/) includes an internal/ header,
     since internal/ is not installed.
  4. src/ includes nothing from tests/, bench/, examples/, fuzz/, python/ or
     tools/.
  5. Every folder under src/ is an area named in LAYERS.
  6. Only src/device/cuda/ calls the CUDA runtime for device memory,
     streams, events, copies, devices or graphs (cudaMalloc*, cudaFree*,
     cudaMemcpy*, cudaStream*, cudaEvent*, ...): everything else goes
     through device/device_context.h. CUDA kernels elsewhere may launch
     and check cudaGetLastError().
  7. Only src/device/cuda/nccl_communicator.cc calls NCCL (ncclAllReduce,
     ncclCommInitRank, ... or includes <nccl.h>): everything else goes
     through device/device_communicator.h.
Only quoted includes rooted at src/ ("queues/fifo_queue.h") are project
includes; <...> and other roots (absl/, Eigen/) are third-party.

usage: check_layering.py [--self-test] [SRC_DIR]
  SRC_DIR       the src/ folder to check (default: the one beside tools/)
  --self-test   first checks that a tree with one violation of each rule
                fails and a clean tree passes (so this check can fail)
Exit status 0 when every rule holds; 1 with one line per violation.
"""

import os
import re
import sys
import tempfile

# Rank of each area: an area may include areas of a lower rank only.
# A new area gets a line here (the check fails until it has one).
LAYERS = {
    "core": 0,
    "queues": 1,
    "device": 1,  # DeviceContext/stream/event vocabulary + the CUDA implementation
    "coordinator": 2,
    "readers": 2,
    "kernels": 2,
    "images": 2,  # image decoding for the pipeline, beside the readers
    "image": 2,  # tf.image kernels (codecs, resize, augmentation) over core
    "pipeline": 3,
    "graph": 4,
    "distributed": 5,  # collectives over graph tensors, used by train
    "train": 6,
    "cli": 7,
}
NOT_FROM_SRC = ("tests", "bench", "examples", "fuzz", "python", "tools")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SOURCE_SUFFIXES = (".h", ".hpp", ".cc", ".cpp", ".cu", ".cuh", ".inc")
CUDA_RUNTIME = re.compile(
    r"\bcuda(Malloc|Free|Memcpy|Memset|Stream|Event|HostAlloc|HostRegister|SetDevice|"
    r"GetDevice|DeviceSynchronize|DeviceGet|MemPool|Graph)\w*\s*\(")
CUDA_HOME = "device/cuda/"
NCCL_CALL = re.compile(r"\bnccl[A-Z]\w*\s*\(|#\s*include\s*[<\"]nccl\.h[>\"]")
NCCL_HOME = "device/cuda/nccl_communicator.cc"


def violations(src):
    """Yields one message per broken rule under `src`."""
    for entry in sorted(os.listdir(src)):
        if os.path.isdir(os.path.join(src, entry)) and entry not in LAYERS:
            yield (f"src/{entry}/: not an area in tools/check_layering.py LAYERS "
                   "(add it with its rank)")
    for dirpath, _, filenames in os.walk(src):
        for name in sorted(filenames):
            if not name.endswith(SOURCE_SUFFIXES):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, src).replace(os.sep, "/")
            area = rel.split("/")[0]
            if area not in LAYERS:
                continue  # reported above (or a file directly in src/)
            public_header = name.endswith((".h", ".hpp", ".cuh")) and "internal" not in rel.split("/")[:-1]
            with open(path, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    code = line.split("//", 1)[0]
                    call = CUDA_RUNTIME.search(code)
                    if call and not rel.startswith(CUDA_HOME):
                        yield (f"src/{rel}:{lineno}: calls {call.group(0).rstrip('( ')}: only "
                               "src/device/cuda/ calls the CUDA runtime (use DeviceContext)")
                    nccl = NCCL_CALL.search(code)
                    if nccl and rel != NCCL_HOME:
                        yield (f"src/{rel}:{lineno}: {nccl.group(0).rstrip('( ')}: only "
                               f"src/{NCCL_HOME} calls NCCL (use device/device_communicator.h)")
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    inc = m.group(1)
                    parts = inc.split("/")
                    where = f"src/{rel}:{lineno}: #include \"{inc}\""
                    if parts[0] in NOT_FROM_SRC:
                        yield f"{where}: src/ includes nothing from {parts[0]}/"
                        continue
                    if parts[0] not in LAYERS or len(parts) < 2:
                        continue  # third-party
                    target = parts[0]
                    if target != area and LAYERS[target] >= LAYERS[area]:
                        yield (f"{where}: {area} (rank {LAYERS[area]}) includes {target} "
                               f"(rank {LAYERS[target]}); layers include only lower ones")
                    if "internal" in parts[:-1]:
                        if target != area:
                            yield f"{where}: {target}/internal/ is private to src/{target}/"
                        elif public_header:
                            yield f"{where}: a public header includes an internal/ one (not installed)"


def self_test():
    """Checks that each rule can fail and that a clean tree passes."""
    cases = {
        "upward": ("kernels/k.cc", '#include "graph/g.h"\n'),
        "sideways": ("readers/r.cc", '#include "coordinator/c.h"\n'),
        "foreign internal": ("pipeline/p.cc", '#include "core/internal/x.h"\n'),
        "public header to internal": ("queues/q.h", '#include "queues/internal/x.h"\n'),
        "tests from src": ("core/c.cc", '#include "tests/support/t.h"\n'),
        "unknown area": ("newarea/n.cc", '#include "core/c.h"\n'),
        "CUDA runtime outside device/cuda": ("pipeline/p.cc", "  cudaMemcpyAsync(d, s, n, k, st);\n"),
        "NCCL outside its file": ("distributed/d.cc", "  ncclAllReduce(a, a, n, t, o, c, s);\n"),
        "NCCL elsewhere in device/cuda": ("device/cuda/x.cc", "#include <nccl.h>\n"),
    }
    clean = {
        "graph/cuda/g.cc": '#include "graph/g.h"\n#include "kernels/k.h"\n',
        "queues/q.cc": '#include "queues/internal/x.h"\n#include "core/c.h"\n',
        "queues/internal/x.h": '#include "queues/internal/y.h"\n#include <absl/status.h>\n',
        "kernels/k.h": '#include "Eigen/Core"\n// #include "graph/g.h" is a comment\n',
        "device/cuda/d.cc": "cudaStreamCreate(&s);  // the one CUDA home\n",
        "device/cuda/nccl_communicator.cc": "#include <nccl.h>\n  ncclCommAbort(c);\n",
        "distributed/n.cc": "  NcclPath(x);  // ncclAllReduce( in a comment\n",
        "kernels/cuda/k.cu": "  return cudaGetLastError();  // cudaMalloc( in a comment\n",
    }

    def check(files):
        with tempfile.TemporaryDirectory(prefix="sluice_layering_") as d:
            for rel, text in files.items():
                os.makedirs(os.path.join(d, os.path.dirname(rel)), exist_ok=True)
                with open(os.path.join(d, rel), "w") as f:
                    f.write(text)
            return list(violations(d))

    ok = True
    found = check(clean)
    if found:
        print("self-test: a clean tree was reported:", *found, sep="\n  ")
        ok = False
    for label, (rel, text) in cases.items():
        found = check({**clean, rel: text})
        if len(found) != 1:
            print(f"self-test: '{label}' gave {len(found)} reports, want 1:", *found, sep="\n  ")
            ok = False
    return ok


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("-")]
    if "--help" in argv or "-h" in argv:
        print(__doc__)
        return 0
    if "--self-test" in argv and not self_test():
        return 1
    src = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    found = list(violations(src))
    for v in found:
        print(v)
    if found:
        print(f"check_layering: {len(found)} violation(s)")
        return 1
    print("check_layering: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
