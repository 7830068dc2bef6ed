#!/usr/bin/env bash
# Installs a built tree into a temporary prefix and builds and runs
# examples/ against it as a separate CMake project (find_package(sluice
# CONFIG)), then compiles one example with pkg-config's flags alone: what a
# user of the installed package sees. Also checks that no internal/ header
# was installed and that every installed header's project includes resolve
# inside the installed tree.
#   tools/check_install.sh [BUILD_DIR]     (default: build/; static or
#                                           BUILD_SHARED_LIBS=ON alike)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
work=$(mktemp -d /tmp/sluice-install-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
if find "$prefix/include" -path '*/internal/*' | grep -q .; then
  echo "check_install: internal/ headers were installed:" >&2
  find "$prefix/include" -path '*/internal/*' >&2
  exit 1
fi
# Every quoted project include of an installed header must be installed too.
missing=0
areas=$(ls "$prefix/include")
while IFS= read -r -d '' h; do
  while IFS= read -r inc; do
    top=${inc%%/*}
    if grep -qx "$top" <<<"$areas" && [ ! -f "$prefix/include/$inc" ]; then
      echo "check_install: ${h#$prefix/include/} includes \"$inc\", which is not installed" >&2
      missing=1
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$h")
done < <(find "$prefix/include" -name '*.h' -print0)
[ "$missing" = 0 ]

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
exec 9>/tmp/sluice-build.lock
flock 9
cmake -S "$root/examples" -B "$work/examples" -G Ninja "${launcher[@]}" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$work/examples" -j "${SLUICE_JOBS:-2}"
flock -u 9
(cd "$work/examples" && ctest --output-on-failure --timeout 300)

# pkg-config alone (no CMake): the tiny-graph example.
pcdir=$(dirname "$(find "$prefix" -name sluice.pc)")
export PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pkg-config --validate sluice
# shellcheck disable=SC2046
flock /tmp/sluice-build.lock ${launcher:+ccache} c++ -O1 "$root/examples/train_linear.cc" \
  -o "$work/train_linear_pc" $(pkg-config --cflags --libs sluice)
# (a shared build: the libraries are found through the loader path)
LD_LIBRARY_PATH="$pcdir/..${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$work/train_linear_pc" --steps 300
echo "check_install: OK (prefix layout, examples via find_package and via pkg-config)"
