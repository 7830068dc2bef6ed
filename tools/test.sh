#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, builds,
# runs every test but the GPU ones, then builds the queue, coordinator and
# Dataset-stage stress tests with ThreadSanitizer and runs them.
#   tools/test.sh            (environment: SLUICE_SKIP_TSAN=1 skips the TSan pass)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/deps.sh
tools/build.sh "$root/build"
echo "== ctest (all labels but gpu)"
(cd build && ctest -LE gpu --output-on-failure -j2 --timeout 900)
echo "== install to a temporary prefix; examples/ built and run against it"
tools/check_install.sh "$root/build"
if [ "${SLUICE_SKIP_TSAN:-0}" != 1 ]; then
  echo "== ThreadSanitizer: queue, coordinator and Dataset-stage tests"
  SLUICE_CMAKE_ARGS="-DSLUICE_SANITIZE=thread -DSLUICE_CONCURRENCY_TESTS_ONLY=ON -DSLUICE_ENABLE_CUDA=OFF -DSLUICE_BUILD_BENCH=OFF" \
    tools/build.sh "$root/build-tsan"
  (cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$root/tests/support/tsan.supp" SLUICE_STRESS_CYCLES=${SLUICE_TSAN_STRESS_CYCLES:-300} \
     ctest --output-on-failure -j2 --timeout 900)
fi
