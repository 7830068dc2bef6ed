#pragma once
// DevicePrefetcher: the last pipeline stage. It pulls host batches from a
// BatchSource on its own thread and keeps up to `depth` of them ready for
// the consumer (the trainer, which feeds each batch to its Session step).
//
// On a CUDA build with a device (and unless force_host), each batch is
// copied on the prefetcher's own non-blocking stream into a device staging
// ring of `depth` slots (one device allocation per slot, reused, grown
// only when a batch needs more); an event recorded after the copies marks
// the slot ready. Next() returns as soon as the copies are *issued*: the
// consumer makes its stream wait on DeviceBatch::ready_event
// (cudaStreamWaitEvent) before reading, so copies overlap compute. The
// host batch should live in pinned memory (MakeBatchBufferPool,
// ImageLabelParser with a pool) for the copy to be asynchronous; pageable
// memory works, slower. A slot is reused only after every tensor of its
// DeviceBatch has been dropped and its copy has completed.
//
// Without a device it is a host prefetch of `depth` batches: tensors are
// the source's host tensors and ready_event is null.
//
// Status codes of Next(): the source's errors, in order (the prefetcher
// goes on after an error); OutOfRange once the source has ended (sticky);
// Cancelled / DeadlineExceeded per WaitOptions; InvalidArgument for a
// string component on the device path; Internal for a CUDA failure
// (naming the call). Destroying the prefetcher stops its thread once the
// source call it is in returns (give the source a stop token to make
// that prompt).
//
// Lifetime: drop every DeviceBatch before destroying the prefetcher (its
// slots and stream go with it); batches it still holds are dropped first.
//
// Thread-safety: Next() may be called from one thread at a time.

#include <cstdint>
#include <functional>
#include <memory>

#include "core/status.h"
#include "core/tensor.h"
#include "core/wait_options.h"
#include "pipeline/stage_metrics.h"

namespace sluice {

// One host batch per call; OutOfRange at the end. `w` carries the
// prefetcher's stop token.
using BatchSource = std::function<absl::StatusOr<TensorTuple>(const WaitOptions& w)>;

struct DevicePrefetchOptions {
  int depth = 2;             // ready batches / device slots (>= 1)
  int device = 0;            // CUDA device ordinal
  bool force_host = false;   // host prefetch even when a device exists
  StageMetrics* metrics = nullptr;  // busy = issuing copies; input wait = in the source
  // The stream (cudaStream_t) the consumer's kernels read the batches on.
  // When set, a slot is refilled only after that stream has passed the
  // point where the batch's last tensor was dropped (an event recorded at
  // the drop), so an asynchronous consumer may queue kernels on a batch
  // and drop it at once. Null: the consumer must not drop a batch before
  // its reads are done.
  void* consumer_stream = nullptr;
};

struct DeviceBatch {
  TensorTuple tensors;     // device memory (MemoryKind::kDevice) when on_device
  bool on_device = false;
  // cudaEvent_t recorded on the copy stream after this batch's copies
  // (null on the host path). Valid while `tensors` are held.
  void* ready_event = nullptr;
};

class DevicePrefetcher {
 public:
  // InvalidArgument for depth < 1 or an empty source; Internal when the
  // device path cannot be set up.
  static absl::StatusOr<std::unique_ptr<DevicePrefetcher>> Create(BatchSource source,
                                                                  DevicePrefetchOptions options);
  virtual ~DevicePrefetcher() = default;
  virtual absl::StatusOr<DeviceBatch> Next(const WaitOptions& w = {}) = 0;
  virtual bool on_device() const = 0;
  // Ready batches / depth now (for fill summaries). Thread-safe.
  virtual double fill_fraction() const = 0;
  // Of the time Next() has waited so far, the part during which the
  // prefetch thread was itself waiting for the consumer to release a slot:
  // the device, not the input, was behind (the consumer's own "input wait"
  // should leave it out). 0 on the host path. Thread-safe.
  virtual int64_t consumer_bound_wait_ns() const = 0;
};

}  // namespace sluice
