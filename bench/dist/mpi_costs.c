/* sluice-dist-mpi-costs: what one float allreduce costs in Open MPI on this
 * machine, taken apart (docs/DISTRIBUTED.md, "Where the time went"):
 *   mpirun -np N sluice-dist-mpi-costs
 * Per size from 4 KiB to 64 MiB, median microseconds of the slowest rank:
 *   bare      MPI_Allreduce in place (the baseline)
 *   iar+wait  MPI_Iallreduce + MPI_Wait
 *   iar+test  MPI_Iallreduce polled with MPI_Test, sched_yield after 2000
 *   4calls    four MPI_Allreduce calls of a quarter each
 *   copy      memcpy of the bytes; scale: one multiply pass over them
 * then, for 256 KiB..64 MiB, one call against the same bytes in pieces of
 * 256 KiB, 1, 2, 4 and 8 MiB. Not a test: figures vary with the load. */
#include <mpi.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

/* Median of t[0..n), then the largest over the ranks (in place in m[k]). */
static void slowest_medians(double** t, int kinds, int n, double* m, MPI_Comm c) {
  double local[8];
  for (int k = 0; k < kinds; k++) {
    qsort(t[k], n, sizeof(double), cmp);
    local[k] = t[k][n / 2];
  }
  MPI_Allreduce(local, m, kinds, MPI_DOUBLE, MPI_MAX, c);
}

static int reps_for(long bytes) {
  long r = (256l << 20) / bytes;
  return r < 7 ? 7 : r > 400 ? 400 : (int)r;
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      printf("usage: mpirun -np N sluice-dist-mpi-costs\n"
             "  the parts of a float allreduce in Open MPI, 4 KiB..64 MiB (see the file's comment)\n");
      return 0;
    }
  }
  int provided, rank;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided); /* as sluice's World */
  MPI_Comm c;
  MPI_Comm_dup(MPI_COMM_WORLD, &c);
  MPI_Comm_rank(c, &rank);
  if (!rank) printf("%10s %9s %9s %9s %9s %9s %9s\n", "bytes", "bare", "iar+wait", "iar+test",
                    "4calls", "copy", "scale");
  for (long b = 4096; b <= 64l << 20; b *= 4) {
    const long e = b / 4;
    float* x = malloc(b);
    float* y = malloc(b);
    for (long i = 0; i < e; i++) x[i] = y[i] = 1e-3f;
    const int reps = reps_for(b);
    double* t[6];
    for (int k = 0; k < 6; k++) t[k] = malloc(sizeof(double) * reps);
    for (int i = 0; i < reps; i++) {
      double t0;
      MPI_Request q;
      int done = 0;
      MPI_Barrier(c);
      t0 = now_us();
      MPI_Allreduce(MPI_IN_PLACE, x, e, MPI_FLOAT, MPI_SUM, c);
      t[0][i] = now_us() - t0;
      MPI_Barrier(c);
      t0 = now_us();
      MPI_Iallreduce(MPI_IN_PLACE, x, e, MPI_FLOAT, MPI_SUM, c, &q);
      MPI_Wait(&q, MPI_STATUS_IGNORE);
      t[1][i] = now_us() - t0;
      MPI_Barrier(c);
      t0 = now_us();
      MPI_Iallreduce(MPI_IN_PLACE, x, e, MPI_FLOAT, MPI_SUM, c, &q);
      for (long k = 0; !done; k++) {
        MPI_Test(&q, &done, MPI_STATUS_IGNORE);
        if (k > 2000) sched_yield();
      }
      t[2][i] = now_us() - t0;
      MPI_Barrier(c);
      t0 = now_us();
      for (int j = 0; j < 4; j++) MPI_Allreduce(MPI_IN_PLACE, x + j * (e / 4), e / 4, MPI_FLOAT, MPI_SUM, c);
      t[3][i] = now_us() - t0;
      t0 = now_us();
      memcpy(y, x, b);
      t[4][i] = now_us() - t0;
      t0 = now_us();
      for (long j = 0; j < e; j++) y[j] *= 0.5f;
      t[5][i] = now_us() - t0;
    }
    double m[6];
    slowest_medians(t, 6, reps, m, c);
    if (!rank) printf("%10ld %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f\n", b, m[0], m[1], m[2], m[3], m[4], m[5]);
    for (int k = 0; k < 6; k++) free(t[k]);
    free(x);
    free(y);
  }
  const long pieces[] = {0, 256 << 10, 1 << 20, 2 << 20, 4 << 20, 8 << 20};
  if (!rank) {
    printf("\n%10s", "bytes");
    printf(" %9s", "one call");
    for (int k = 1; k < 6; k++) printf(" %8ldK", pieces[k] >> 10);
    printf("   (microseconds, in pieces of that size)\n");
  }
  for (long b = 256 << 10; b <= 64l << 20; b *= 4) {
    const long e = b / 4;
    float* x = malloc(b);
    for (long i = 0; i < e; i++) x[i] = 1e-3f;
    const int reps = reps_for(b) > 200 ? 200 : reps_for(b);
    double* t[6];
    for (int k = 0; k < 6; k++) t[k] = malloc(sizeof(double) * reps);
    for (int i = 0; i < reps; i++) {
      for (int k = 0; k < 6; k++) {
        const long ch = pieces[k] ? pieces[k] / 4 : e;
        MPI_Barrier(c);
        const double t0 = now_us();
        for (long o = 0; o < e; o += ch) {
          MPI_Allreduce(MPI_IN_PLACE, x + o, e - o < ch ? e - o : ch, MPI_FLOAT, MPI_SUM, c);
        }
        t[k][i] = now_us() - t0;
      }
    }
    double m[6];
    slowest_medians(t, 6, reps, m, c);
    if (!rank) {
      printf("%10ld", b);
      for (int k = 0; k < 6; k++) printf(" %9.1f", m[k]);
      printf("\n");
    }
    for (int k = 0; k < 6; k++) free(t[k]);
    free(x);
  }
  MPI_Comm_free(&c);
  MPI_Finalize();
  return 0;
}
