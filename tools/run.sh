#!/usr/bin/env bash
# The main job on its embedded default: `sluice train` (an MLP on
# Fashion-MNIST from the Debian package, converted once into a TFRecord
# cache, trained on the GPU when there is one, else the CPU). Extra
# arguments go to `sluice train` (see `sluice train --help`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/deps.sh
tools/build.sh "$root/build" -- --target sluice
exec build/src/cli/sluice train "$@"
