#!/bin/sh
# Runs sluice-dist-bench at N = 1, 2, 4 on this machine (as root and
# oversubscribed where needed). usage: bench/dist/run.sh BUILD_DIR [--json]
set -e
b=${1:?usage: run.sh BUILD_DIR [--json]}
shift
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=self,vader,tcp
for n in 1 2 4; do
  mpirun -np $n "$b/bench/dist/sluice-dist-bench" --allreduce --train "$@"
done
