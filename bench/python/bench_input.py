#!/usr/bin/env python3
"""Python input benchmark: sluice.data's parsed batches against the C++
pipeline and against torch.utils.data.DataLoader, side by side in one run.

Data: the records sluice-bench's pipeline.* results use (`sluice gen
--records N --shards 8 --record-bytes 784 --compression none --seed 1`:
tf.train.Example {image: 784 bytes, label, id}), written to a temporary
folder (warm page cache).

Measured, each repetition in turn (the median is reported):
  python        sluice.data.TFRecordDataset(files, num_parallel_reads=2, map_file=True)
                .shuffle(10000, seed=1).repeat(P).map(parse_example_fn(image/label/id,
                decode_raw image -> uint8), num_parallel_calls=2).batch(128)
                .prefetch(2), iterated from Python: dicts of numpy arrays.
                P = --passes (default 5): one timed run reads the records P
                times (about half a second here), so that a scheduler hiccup
                on a shared machine is a small part of it.
  native        the same pipeline drained in C++ inside this process
                (Pipeline.drain: no Python per batch).
  sluice-bench  `sluice-bench --json --filter 'pipeline.dataset$'` (the C++
                benchmark, its own copy of the same records), when found
                and N is its 200,000.
  torch0/torch2 torch.utils.data.DataLoader(batch_size=128, num_workers=0 /
                2) over bench/torch_dataloader_peer.py's pure-Python TFRecord
                reader and Example decoder (files split across workers), on
                the first --peer-records records.
Every sluice pass checks that each id arrived exactly once.

An untimed python pass warms up first; then python and native alternate
which goes first in each repetition. Prints a table and one JSON line with
the rates (medians), the ratios (python / native and python / sluice-bench:
medians of the ratios within each repetition, run back to back; python /
torch0, torch2), each repetition's python / native ratio, the ratio of
the process CPU time (all threads) a pass takes, native / python, and the
1-minute load average before and after. For a figure to quote, run it with no
compile beside it (on a shared machine: under the build lock, e.g.
`flock /tmp/sluice-build.lock /usr/bin/python3 bench/python/bench_input.py`).
Targets from issue 12: python >= 0.85 x the C++ rate, >= 15 x torch0.

usage: bench_input.py [--records N] [--passes P] [--peer-records N] [--repetitions R]
                      [--build DIR] [--sluice-bench PATH] [--no-sluice-bench] [--no-torch]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def gen(sluice_bin, out, records):
    subprocess.run([sluice_bin, "gen", "--out", out, "--records", str(records), "--shards", "8",
                    "--record-bytes", "784", "--compression", "none", "--seed", "1"],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "manifest.json")) as f:
        m = json.load(f)
    return [os.path.join(out, s["file"]) for s in m["shards"]]


def sluice_dataset(sluice, files, passes=1):
    spec = {"image": sluice.io.FixedLenFeature([], sluice.string),
            "label": sluice.io.FixedLenFeature([], sluice.int64),
            "id": sluice.io.FixedLenFeature([], sluice.int64)}
    parse = sluice.io.parse_example_fn(spec, decode_raw={"image": sluice.uint8})
    # map_file as sluice-bench's pipelines read (records straight from the page cache).
    return (sluice.data.TFRecordDataset(files, compression_type="", num_parallel_reads=2,
                                        map_file=True)
            .shuffle(10000, seed=1).repeat(passes).map(parse, num_parallel_calls=2)
            .batch(128).prefetch(2))


def cpu_seconds():
    """This process's CPU time so far (all threads, user + system)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_python(ds, n, passes=1, cpu=None):
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    rows = ids = 0
    for b in ds:
        rows += b["image"].shape[0]
        ids += int(b["id"].sum())
    dt = time.perf_counter() - t0
    assert rows == n * passes and ids == passes * n * (n - 1) // 2, (rows, ids)
    if cpu is not None:
        cpu.append(cpu_seconds() - c0)
    return n * passes / dt


def run_native(sluice, ds, n, passes=1, cpu=None):
    from sluice import _sluice
    pipeline = _sluice.Pipeline(ds._native_ops())
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    _, rows, ids = pipeline.drain(2)
    dt = time.perf_counter() - t0
    assert rows == n * passes and ids == passes * n * (n - 1) // 2, (rows, ids)
    if cpu is not None:
        cpu.append(cpu_seconds() - c0)
    return n * passes / dt


def run_sluice_bench(path, reps):
    out = subprocess.run([path, "--json", "--filter", "pipeline.dataset$", "--repetitions",
                          str(reps)], check=True, capture_output=True, text=True).stdout
    for r in json.loads(out)["results"]:
        if r["name"] == "pipeline.dataset":
            return r["items_per_second"]
    return None


def run_torch(files, max_records, workers):
    import torch
    from torch.utils.data import DataLoader, IterableDataset, get_worker_info
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import torch_dataloader_peer as peer

    class Split(IterableDataset):
        """The peer's dataset, with files (and the record cap) split over workers."""

        def __iter__(self):
            info = get_worker_info()
            k, i = (1, 0) if info is None else (info.num_workers, info.id)
            return iter(peer.TFRecordExamples(files[i::k], max_records // k))

    loader = DataLoader(Split(), batch_size=128, num_workers=workers)
    t0 = time.perf_counter()
    rows = 0
    for images, labels in loader:
        rows += images.shape[0]
    return rows / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=200000)
    ap.add_argument("--passes", type=int, default=5,
                    help="times one timed run reads the records (repeat)")
    ap.add_argument("--peer-records", type=int, default=40000,
                    help="records the DataLoader peers read (they are slow)")
    ap.add_argument("--repetitions", type=int, default=9)
    ap.add_argument("--build", default=os.environ.get("SLUICE_BINARY_DIR",
                                                       os.path.join(ROOT, "build")))
    ap.add_argument("--sluice-bench", default=None,
                    help="sluice-bench binary (default: BUILD/bench/sluice-bench)")
    ap.add_argument("--no-sluice-bench", action="store_true")
    ap.add_argument("--no-torch", action="store_true")
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.build, "python"))
    import sluice

    with tempfile.TemporaryDirectory(prefix="sluice-bench-python-") as tmp:
        files = gen(os.path.join(a.build, "src", "cli", "sluice"), tmp, a.records)
        for f in files:  # warm the page cache
            with open(f, "rb") as fh:
                fh.read()
        ds = sluice_dataset(sluice, files, a.passes)
        bench_bin = a.sluice_bench or os.path.join(a.build, "bench", "sluice-bench")
        use_bench = not a.no_sluice_bench and a.records == 200000 and os.path.exists(bench_bin)
        # Interleaved, one of each per repetition, so that load from other
        # processes hits all three alike; ratios are medians of the
        # per-repetition ratios.
        py_rates, native_rates, bench_rates, py_cpu, native_cpu = [], [], [], [], []
        load_before = os.getloadavg()[0]
        run_python(ds, a.records, a.passes)  # warm-up
        for rep in range(a.repetitions):
            if rep % 2 == 0:
                py_rates.append(run_python(ds, a.records, a.passes, py_cpu))
                native_rates.append(run_native(sluice, ds, a.records, a.passes, native_cpu))
            else:
                native_rates.append(run_native(sluice, ds, a.records, a.passes, native_cpu))
                py_rates.append(run_python(ds, a.records, a.passes, py_cpu))
            if use_bench:
                bench_rates.append(run_sluice_bench(bench_bin, 1))
        stages = ds.stats()
        ratios = [p / n for p, n in zip(py_rates, native_rates)]
        result = {"records": a.records, "passes": a.passes, "repetitions": a.repetitions,
                  "python": statistics.median(py_rates),
                  "native": statistics.median(native_rates),
                  "python_spread": [min(py_rates), max(py_rates)],
                  "ratio_vs_native": statistics.median(ratios),
                  "ratios_vs_native": [round(r, 3) for r in ratios],
                  # Process CPU seconds per pass (all threads), native / python.
                  "cpu_ratio_vs_native": statistics.median(
                      n / p for p, n in zip(py_cpu, native_cpu)),
                  "load_1m": [load_before, os.getloadavg()[0]]}
        if bench_rates:
            result["sluice_bench"] = statistics.median(bench_rates)
            bench_ratios = [p / b for p, b in zip(py_rates, bench_rates)]
            result["ratio_vs_sluice_bench"] = statistics.median(bench_ratios)
            result["ratios_vs_sluice_bench"] = [round(r, 3) for r in bench_ratios]
            result["native_vs_sluice_bench"] = statistics.median(
                n / b for n, b in zip(native_rates, bench_rates))
        if not a.no_torch:
            try:
                import torch  # noqa: F401
                peer_n = min(a.peer_records, a.records)
                result["torch0"] = run_torch(files, peer_n, 0)
                result["torch2"] = run_torch(files, peer_n, 2)
            except ImportError:
                print("python3-torch not installed: DataLoader peers not measured")
    p = result["python"]
    for k in ("torch0", "torch2"):
        if result.get(k):
            result["ratio_vs_" + k] = p / result[k]
    print("%-44s %14s %8s" % ("result", "records/s", "python/x"))
    print("%-44s %14.0f %8s" % ("python (sluice.data, batches of 128)", p, ""))
    print("%-44s %14.0f %8.3f" % ("native (same pipeline drained in C++)", result["native"],
                                  result["ratio_vs_native"]))
    if result.get("sluice_bench"):
        print("%-44s %14.0f %8.3f" % ("sluice-bench pipeline.dataset (C++)", result["sluice_bench"],
                                      result["ratio_vs_sluice_bench"]))
    for k, name in (("torch0", "DataLoader num_workers=0"), ("torch2", "DataLoader num_workers=2")):
        if result.get(k):
            print("%-44s %14.0f %8.2f" % (name, result[k], result["ratio_vs_" + k]))
    print("python / native per repetition: %s; load average %.2f -> %.2f" %
          (" ".join("%.3f" % r for r in result["ratios_vs_native"]), *result["load_1m"]))
    print("CPU time per pass, native / python (median): %.3f" % result["cpu_ratio_vs_native"])
    print("consumer stage: %.0f%% waiting for the pipeline" %
          (100 * next(s["input_wait"] for s in stages if s["stage"] == "consume")))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
