#!/usr/bin/env bash
# Builds the GPU test binary and the sluice CLI with nvcc (sm_90) and packs
# them, every non-system shared library they load (bin/ and lib/, as
# gpu_bundle/bin-lib.tar.gz), and converted Fashion-MNIST TFRecords into
# gpu_bundle/ (ignored by git), with gpu_bundle/run_gpu_checks.sh to run on
# a GPU machine (it unpacks the tar into /tmp):
#   tools/gpu/bundle.sh                 # build in build-gpu, pack
#   SLUICE_GPU_BUILD=build tools/gpu/bundle.sh   # reuse a CUDA-enabled tree
# Data: $SLUICE_CACHE_DIR or ~/.cache/sluice/fashion-mnist (converted by
# `sluice train` / `sluice convert`), converted here when missing.
# cuBLAS (libcublas + libcublasLt, ~0.6 GB) is not packed: the GPU machine's
# CUDA toolkit provides it (run_gpu_checks.sh searches the usual places).
# Nor is NCCL (libnccl.so.2, ~220 MB; dlopen'ed by sluice, not linked):
# run_gpu_checks.sh looks for it in the CUDA install and in pip's
# nvidia-nccl-cu13, and the NCCL tests skip when it is not found.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${SLUICE_GPU_BUILD:-$root/build-gpu}
case "$build" in /*) ;; *) build=$root/$build ;; esac
out=$root/gpu_bundle
SLUICE_CMAKE_ARGS="${SLUICE_CMAKE_ARGS:-} -DCMAKE_CUDA_ARCHITECTURES=90" \
  "$root/tools/build.sh" "$build" -- --target gpu_kernels_test gpu_step_capture_test pipeline_device_prefetch_gpu_test gpu_nccl_allreduce_test gpu_visible_devices_test sluice sluice-bench
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib" "$out/data"
cp "$build/tests/gpu/gpu_kernels_test" "$build/tests/gpu/gpu_step_capture_test" \
   "$build/tests/pipeline/pipeline_device_prefetch_gpu_test" \
   "$build/tests/gpu/gpu_nccl_allreduce_test" "$build/tests/gpu/gpu_visible_devices_test" \
   "$build/src/cli/sluice" "$out/bin/"
[ -x "$build/bench/sluice-bench" ] && cp "$build/bench/sluice-bench" "$out/bin/" || true
strip --strip-all "$out"/bin/* 2>/dev/null || true  # symbols too: the bundle must stay small
# Non-system libraries (the GPU machine has no Debian packages).
for b in "$out"/bin/*; do
  ldd "$b" | awk '/=> \//{print $3}'
done | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libgcc_s.so*|libcuda.so*) ;;
    libcublas.so*|libcublasLt.so*|libnccl.so*) ;;
    *) cp -L "$lib" "$out/lib/" ;;
  esac
done
data=${SLUICE_CACHE_DIR:-$HOME/.cache/sluice/fashion-mnist}
if [ ! -f "$data/train.manifest" ] || [ ! -f "$data/test.manifest" ]; then
  "$out/bin/sluice" train --data "$data" --epochs 1 --max-steps 1 --logdir "" --quiet --device cpu
fi
cp "$data"/train* "$data"/test* "$out/data/"
# The NCCL path under mpirun (run only where an Open MPI mpirun is found).
cp "$root/tests/distributed/train_nccl_test.py" "$root/tests/distributed/train_mpirun_test.py" "$out/bin/"
cat > "$out/run_gpu_checks.sh" <<'RUN'
#!/usr/bin/env bash
# Runs the GPU checks; writes everything to $OUT (default ./gpu_out).
here=$(cd "$(dirname "$0")" && pwd)
# bin/ and lib/ travel as one gzip'ed tar (the uncompressed bundle is over
# the 64 MiB a device call carries); unpacked into /tmp, the bundle may be
# read-only.
pkg=$here
if [ -f "$here/bin-lib.tar.gz" ]; then
  pkg=$(mktemp -d /tmp/sluice_gpu_bundle.XXXXXX)
  tar -C "$pkg" -xzf "$here/bin-lib.tar.gz"
fi
OUT=${OUT:-$PWD/gpu_out}
mkdir -p "$OUT"
cublas=""
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
         $(python3 -c 'import nvidia.cublas, os; print(os.path.join(nvidia.cublas.__path__[0], "lib"))' 2>/dev/null); do
  [ -e "$d/libcublas.so.13" ] && cublas="$d" && break
done
nccl=""
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib \
         $(python3 -c 'import nvidia.nccl, os; print(os.path.join(nvidia.nccl.__path__[0], "lib"))' 2>/dev/null); do
  [ -e "$d/libnccl.so.2" ] && nccl="$d" && break
done
export LD_LIBRARY_PATH="$pkg/lib${cublas:+:$cublas}${nccl:+:$nccl}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
{
  echo "== device"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1
  echo "cublas from: ${cublas:-not found}"
  echo "nccl from: ${nccl:-not found (the NCCL tests skip)}"
} > "$OUT/summary.txt"
rc=0
skipped=""
for t in gpu_kernels_test gpu_step_capture_test pipeline_device_prefetch_gpu_test gpu_nccl_allreduce_test gpu_visible_devices_test; do
  echo "== $t" | tee -a "$OUT/summary.txt"
  # Exit 77 (tests/support/gpu_test_main.cc): every test that ran skipped
  # (no device, no NCCL): counted as skipped, neither a pass nor a failure.
  timeout 300 "$pkg/bin/$t" > "$OUT/$t.log" 2>&1
  case $? in
    0) verdict=passed ;;
    77) verdict=skipped; skipped="$skipped $t" ;;
    *) verdict=FAILED; rc=1 ;;
  esac
  grep -E "^\[ *(OK|FAILED|SKIPPED|PASSED) *\]|tests ran|^adam:|Failure|Expected|Which is|actual" "$OUT/$t.log" | head -40 >> "$OUT/summary.txt"
  echo "$t: $verdict" | tee -a "$OUT/summary.txt"
  [ "$verdict" = FAILED ] || rm -f "$OUT/$t.log"  # few files come back: keep failures only
done
# `mpirun -np 1 sluice train --device gpu --allreduce nccl` (needs an Open
# MPI mpirun: the bundled libmpi is Open MPI's).
echo "== mpirun -np 1 sluice train --allreduce nccl" | tee -a "$OUT/summary.txt"
if command -v mpirun >/dev/null && mpirun --version 2>&1 | grep -q "Open MPI"; then
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 300 python3 \
      "$pkg/bin/train_nccl_test.py" --sluice "$pkg/bin/sluice" --mpirun "$(command -v mpirun)" \
      > "$OUT/train_nccl.log" 2>&1
  case $? in 0) ;; 77) skipped="$skipped train_nccl" ;; *) rc=1 ;; esac
  tail -8 "$OUT/train_nccl.log" >> "$OUT/summary.txt"
else
  echo "no Open MPI mpirun here: not run (gpu_nccl_allreduce_test covers the path at one rank)" >> "$OUT/summary.txt"
fi
if [ -x "$pkg/bin/sluice-bench" ]; then
  echo "== sluice-bench --filter gpu" | tee -a "$OUT/summary.txt"
  timeout 240 "$pkg/bin/sluice-bench" --json --repetitions 3 --filter "${SLUICE_GPU_BENCH_FILTER:-gpu}" > "$OUT/bench.json" 2> "$OUT/bench.err" || rc=1
  cat "$OUT/bench.json" >> "$OUT/summary.txt"
  grep -v ": done$" "$OUT/bench.err" >> "$OUT/summary.txt"; rm -f "$OUT/bench.err"
fi
# A profile of the GPU training step when Nsight Systems is installed: the
# CUDA API and kernel time tables go to nsys.txt (the report is dropped).
nsys=$(command -v nsys || ls -d /usr/local/cuda/bin/nsys /opt/nvidia/nsight-systems/*/bin/nsys \
       /usr/local/cuda*/nsight-systems*/bin/nsys 2>/dev/null | head -1)
if [ -n "$nsys" ] && [ -x "$pkg/bin/sluice-bench" ] && [ -z "${SLUICE_GPU_NO_PROFILE:-}" ]; then
  echo "== nsys ($nsys)" | tee -a "$OUT/summary.txt"
  timeout 150 "$nsys" profile --force-overwrite true -o "$OUT/prof" --stats=true \
      "$pkg/bin/sluice-bench" --repetitions 1 --filter train.mlp.gpu > "$OUT/nsys.txt" 2>&1 || true
  rm -f "$OUT"/prof.nsys-rep "$OUT"/prof.sqlite
  grep -A14 -E "cuda_api_sum|cuda_gpu_kern_sum" "$OUT/nsys.txt" | cut -c1-200 >> "$OUT/summary.txt"
else
  echo "== nsys: not found" >> "$OUT/summary.txt"
fi
for model in ${SLUICE_GPU_MODELS:-mlp softmax cnn}; do
  echo "== sluice train --model $model --device gpu" | tee -a "$OUT/summary.txt"
  timeout ${SLUICE_GPU_TRAIN_TIMEOUT:-150} "$pkg/bin/sluice" train --model "$model" --device gpu \
      $([ "$model" = cnn ] || echo --batch-size 256) --data "$here/data" --logdir "$OUT/run-$model" --json \
      > "$OUT/train-$model.log" 2>&1 || rc=1
  grep -E "done|finished|step capture|^\{" "$OUT/train-$model.log" >> "$OUT/summary.txt"
  tail -3 "$OUT/train-$model.log" >> "$OUT/summary.txt"
done
rm -rf "$OUT"/run-*  # events and checkpoints: not needed back
echo "skipped (all their tests skipped, exit 77):${skipped:- none}" >> "$OUT/summary.txt"
echo "rc=$rc" >> "$OUT/summary.txt"
exit $rc
RUN
chmod +x "$out/run_gpu_checks.sh"
# 37 MB of binaries and libraries pack into ~13 MB: with the data (31 MB)
# and the repo the carried tree stays under the device's 64 MiB.
tar -C "$out" -czf "$out/bin-lib.tar.gz" bin lib && rm -rf "$out/bin" "$out/lib"
du -sh "$out"
