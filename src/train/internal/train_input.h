#pragma once
// The training job's input (private to src/train).
//
// Each epoch's training batches come from a pipeline of its own:
//   TFRecordDataset (up to 4 parallel reads) -> Shuffle(10000, the epoch's
//   seed) -> Batch(batch_size) -> parse Map (ImageLabelParser: raw pixels
//   copied; encoded images decoded and, with TrainOptions::augment, padded,
//   randomly cropped and flipped) -> Prefetch(4) -> DevicePrefetcher (depth
//   TrainOptions::prefetch_depth) onto the session's device,
// with its stages' metrics named "read", "parse", "prefetch" and
// "device_copy". Alone, a process reads every record and drops the short
// last batch; with a share (InputShares) it reads that share of the epoch
// (distributed/sharding.h: files or records by rank, epoch and seed) and
// keeps its last short batch, so every record trains once per epoch.
// The test set is read unshuffled in batches of 1000 (augmentation off),
// whole or by share.
//
// On the GPU the parsers write images into a pool of pinned host buffers
// (so the device copies are asynchronous DMA) covering two epochs' input in
// flight; a larger (evaluation) batch falls back to ordinary memory.
//
// Errors: the parsers' (Create), the pipeline's and the device
// prefetcher's (StartEpoch, TestBatches). Thread-safety: const methods may
// be called from several threads; the pipelines they start run on their
// own threads.

#include <cstdint>
#include <memory>
#include <ostream>
#include <string_view>

#include "core/buffer_pool.h"
#include "core/status.h"
#include "device/device_context.h"
#include "pipeline/dataset/dataset.h"
#include "pipeline/image_label_parser.h"
#include "pipeline/prefetch/device_prefetcher.h"
#include "pipeline/stage_metrics.h"
#include "train/trainer.h"

namespace sluice::train::internal {

// One epoch's input: the pipeline and the device prefetch after it.
struct EpochInput {
  PipelineMetrics metrics;  // outlives the prefetcher (declared first)
  std::unique_ptr<DevicePrefetcher> prefetch;
};

// Which records this process reads.
struct InputShares {
  // Training: share `train_index` of `train_count` of every epoch; false:
  // all records.
  bool train_sharded = false;
  int train_index = 0;
  int train_count = 1;
  // Test: share `test_index` of `test_count`; false: all records.
  bool test_sharded = false;
  int test_index = 0;
  int test_count = 1;
  // Who holds a share, in the record-sharding notes: "rank", or "worker"
  // in parameter-server mode (where ps ranks read no input).
  std::string_view holder = "rank";
};

class TrainInputs {
 public:
  // `device`: the session's device context on the GPU, null on the CPU.
  // `log` (may be null) gets the shares' notes (record sharding when there
  // are fewer files than shares) once, here. `o` must outlive the result.
  static absl::StatusOr<TrainInputs> Create(const TrainOptions& o,
                                            DeviceContext* device,
                                            InputShares shares,
                                            std::ostream* log, int first_epoch);

  // Starts epoch `epoch`'s (0-based) pipeline and device prefetch; its
  // threads fill the shuffle buffer and the prefetch at once.
  absl::StatusOr<std::unique_ptr<EpochInput>> StartEpoch(int epoch) const;
  // The test set's batches: {image uint8 [k, pixels], label int64 [k], id}.
  absl::StatusOr<std::unique_ptr<Iterator>> TestBatches() const;

 private:
  TrainInputs(const TrainOptions& o, DeviceContext* device, InputShares shares,
              ImageLabelParser test_parser, ImageLabelParser train_parser)
      : o_(&o),
        device_(device),
        shares_(shares),
        test_parser_(std::move(test_parser)),
        train_parser_(std::move(train_parser)) {}

  const TrainOptions* o_;
  DeviceContext* device_;
  InputShares shares_;
  ImageLabelParser test_parser_;
  ImageLabelParser train_parser_;
};

}  // namespace sluice::train::internal
