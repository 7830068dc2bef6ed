#pragma once
// Input producers: tf.train.input_producer, string_input_producer,
// range_input_producer and slice_input_producer (spec §4.1, checklist
// 99–102).
//
// Each builds a FIFOQueue of `capacity` rows and registers, in
// `collections`, one QueueRunner with ONE enqueue step and a fill summary
// "<name>/fraction_of_<capacity>_full". Every run of the step enqueues one
// whole epoch with EnqueueMany (a fresh permutation when `shuffle`), so
// epochs never interleave. After `num_epochs` runs the step returns
// OutOfRange "Reached limit of N", and the runner closes the queue; readers
// then drain it and get OutOfRange (the §4.3 cascade).
//
// Sharding (a sluice extension, ARCHITECTURE "Past one machine"): with
// num_shards > 1 only the rows whose index % num_shards == shard_index are
// produced, before shuffling.
//
// Errors at construction (TensorFlow's ValueError): InvalidArgument for
// num_epochs <= 0, capacity <= 0, a bad shard, an empty string list, tensors
// of rank 0 or with different first dimensions. An input tensor with zero
// rows is accepted and fails at run time inside the runner with
// InvalidArgument (TensorFlow's assertion), reported to the coordinator.
//
// Thread-safety: the returned objects are thread-safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "pipeline/input_collections.h"
#include "queues/fifo_queue.h"

namespace sluice {

struct ProducerOptions {
  std::optional<int64_t> num_epochs;  // nullopt: unlimited
  bool shuffle = true;
  uint64_t seed = 0;   // 0: nondeterministic (TensorFlow's "no seed")
  int64_t capacity = 32;
  std::string name = "input_producer";
  int shard_index = 0;
  int num_shards = 1;
};

struct Producer {
  std::shared_ptr<FIFOQueue> queue;
  std::shared_ptr<QueueRunner> runner;
  std::string summary_tag;  // "<name>/fraction_of_<capacity>_full"
};

// Rows of `input` (dim 0), one component. The row shape is input's shape
// without dim 0.
absl::StatusOr<Producer> InputProducer(Tensor input, ProducerOptions options,
                                       InputCollections* collections);
absl::StatusOr<Producer> StringInputProducer(const std::vector<std::string>& strings,
                                             ProducerOptions options,
                                             InputCollections* collections);
// int32 scalars 0 .. limit-1.
absl::StatusOr<Producer> RangeInputProducer(int32_t limit, ProducerOptions options,
                                            InputCollections* collections);
// Rows i of every tensor, as one element with one component per tensor.
absl::StatusOr<Producer> SliceInputProducer(std::vector<Tensor> tensors, ProducerOptions options,
                                            InputCollections* collections);

}  // namespace sluice
