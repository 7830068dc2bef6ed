#!/usr/bin/env bash
# Installs the Debian packages sluice builds and tests with, if any is
# missing (a fresh machine, as root). Safe to run repeatedly.
set -euo pipefail
pkgs=(build-essential cmake ninja-build ccache pkg-config
      libabsl-dev libtbb-dev libeigen3-dev libconcurrentqueue-dev zlib1g-dev
      libisal-dev libdeflate-dev libgtest-dev libgmock-dev libbenchmark-dev
      libprotobuf-dev protobuf-compiler libssl-dev
      libleveldb-dev libsnappy-dev   # TensorFlow checkpoint indexes (LevelDB tables)
      libopenmpi-dev openmpi-bin   # distributed training (src/distributed, mpirun tests)
      dataset-fashion-mnist    # the main job's default data set (IDX files)
      python3-dev pybind11-dev python3-numpy python3-pytest python3-torch  # import sluice + its tests
      libturbojpeg0-dev libpng-dev   # src/image codecs
      libjpeg62-turbo-dev   # src/image: libjpeg API (scanline crop/skip) for DecodeAndCropJpeg
      python3-pil python3-torchvision  # image test references, bench peer
      python3-protobuf python3-crcmod)  # event files decoded in the mpirun tests
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "sluice: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
