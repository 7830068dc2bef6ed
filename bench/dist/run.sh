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
# Parameter servers: 1 ps task and 2 or 3 workers, asynchronous and
# synchronous (every worker's gradient in each update).
for n in 3 4; do
  mpirun -np $n "$b/bench/dist/sluice-dist-bench" --train --ps-tasks 1 "$@"
  mpirun -np $n "$b/bench/dist/sluice-dist-bench" --train --ps-tasks 1 --sync-replicas $((n - 1)) "$@"
done
