#pragma once
// DevicePrefetcher: the last pipeline stage. It pulls host batches from a
// BatchSource on its own thread and keeps up to `depth` of them ready for
// the consumer (the trainer, which feeds each batch to its Session step).
// It is written on the device vocabulary (device/device_context.h) only: the
// same code stages onto a CUDA GPU or a test's simulated device.
//
// With an asynchronous device (DevicePrefetchOptions::device), each batch
// is copied on the prefetcher's own stream (DeviceContext::NewStream) into
// a staging ring of `depth` slots (one device allocation per slot, reused,
// grown only when a batch needs more); an event recorded after the copies
// marks the slot ready. Next() returns as soon as the copies are *issued*:
// the consumer makes its stream wait on DeviceBatch::ready
// (DeviceContext::WaitFor) before reading, so copies overlap compute. The
// host batch should live in pinned memory (MakeBatchBufferPool,
// ImageLabelParser with a pool) for the copy to be asynchronous; pageable
// memory works, slower.
//
// A batch's tensors are leases on its slot (StagingSlotAllocator(), so
// IsStagingSlot() is true of them): a captured Session step reads them in
// place. Slots are released stream-ordered: when the last tensor of a batch is
// dropped, an event is recorded on the device's compute stream, and the
// slot's next copy waits for that event on the device. So a consumer that
// queues kernels reading the batch on the compute stream (a Session step,
// a captured step reading the slot in place) may drop the batch as soon as
// they are queued; a consumer reading on another stream must wait for its
// reads before dropping.
//
// Without a device (null, or the CPU) it is a host prefetch of `depth`
// batches: tensors are the source's host tensors and `ready` is null.
//
// Status codes of Next(): the source's errors, in order (the prefetcher
// goes on after an error); OutOfRange once the source has ended (sticky);
// Cancelled / DeadlineExceeded per WaitOptions; InvalidArgument for a
// string component on the device path; the device's errors (Internal for
// CUDA's, naming the call). Destroying the prefetcher stops its thread
// once the source call it is in returns (give the source a stop token to
// make that prompt).
//
// Lifetime: drop every DeviceBatch before destroying the prefetcher (its
// slots and stream go with it); batches it still holds are dropped first.
// The device context must outlive the prefetcher.
//
// Thread-safety: Next() may be called from one thread at a time.

#include <cstdint>
#include <functional>
#include <memory>

#include "core/status.h"
#include "core/tensor.h"
#include "core/wait_options.h"
#include "device/device_context.h"
#include "pipeline/stage_metrics.h"

namespace sluice {

// One host batch per call; OutOfRange at the end. `w` carries the
// prefetcher's stop token.
using BatchSource = std::function<absl::StatusOr<TensorTuple>(const WaitOptions& w)>;

struct DevicePrefetchOptions {
  int depth = 2;  // ready batches / device slots (>= 1)
  // The device to stage batches on (e.g. GpuContext(N) from
  // device/device_registry.h for "/gpu:N"); null or a device without
  // streams (the CPU): host prefetch.
  DeviceContext* device = nullptr;
  StageMetrics* metrics = nullptr;  // busy = issuing copies; input wait = in the source
};

struct DeviceBatch {
  TensorTuple tensors;  // device memory (MemoryKind::kDevice) when on_device
  bool on_device = false;
  // Recorded on the prefetcher's stream after this batch's copies (null on
  // the host path). Valid while `tensors` are held.
  const DeviceEvent* ready = nullptr;
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
