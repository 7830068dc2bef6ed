# cmake -DMPIRUN=... -DBENCH=<sluice-dist-bench> -P check_smoke.cmake
# sluice-dist-bench --smoke under mpirun -np 2, --allreduce and --train (on
# its synthetic records): exit 0, the allreduce table's rows, and one
# dist.train.mlp.cpu line per mode (average, after, overlap) whose samples/s
# per rank and in total are non-zero.
set(ENV{OMPI_ALLOW_RUN_AS_ROOT} 1)
set(ENV{OMPI_ALLOW_RUN_AS_ROOT_CONFIRM} 1)
set(ENV{OMPI_MCA_rmaps_base_oversubscribe} 1)
set(ENV{OMPI_MCA_btl} self,vader,tcp)
execute_process(COMMAND ${MPIRUN} -np 2 ${BENCH} --smoke --allreduce --train
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                TIMEOUT 100)
message(STATUS "${out}")
if(NOT rc STREQUAL "0")
  message(FATAL_ERROR "sluice-dist-bench --smoke exited ${rc}\n${err}")
endif()
# 4 KiB, 16 KiB, 64 KiB rows: bytes, then 5 figures.
foreach(bytes 4096 16384 65536)
  if(NOT out MATCHES "\n${bytes} +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+\n")
    message(FATAL_ERROR "no --allreduce row for ${bytes} bytes")
  endif()
endforeach()
foreach(mode average after overlap)
  string(REGEX MATCH "dist.train.mlp.cpu N=2 ${mode} +([0-9]+) samples/s per rank, +([0-9]+) in total[^\n]*\\(4 steps after 0 warm-up, batch 32 per rank\\)"
         line "${out}")
  if(NOT line)
    message(FATAL_ERROR "no dist.train.mlp.cpu line for mode ${mode} with 4 steps of batch 32")
  endif()
  if(CMAKE_MATCH_1 EQUAL 0 OR CMAKE_MATCH_2 EQUAL 0)
    message(FATAL_ERROR "mode ${mode}: zero samples/s: ${line}")
  endif()
endforeach()
