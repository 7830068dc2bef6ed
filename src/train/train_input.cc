#include "train/internal/train_input.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "distributed/sharding.h"
#include "pipeline/dataset/tfrecord_dataset.h"
#include "pipeline/prefetch/pinned_memory.h"

namespace sluice::train::internal {
namespace {

// Pinned batch buffers on the GPU: two epochs' inputs in flight (each: the
// dataset's prefetch, the parse in progress, the device slots).
constexpr size_t kPinnedBatches = 32;

// One parse thread unless asked: the Map then runs inline in the prefetch
// thread. A parallel Map runs its calls as oneTBB tasks from a thread that
// then blocks, as the Session's executor does for CPU kernels; on a 2-core
// machine (one TBB worker) the two starve each other and a step can hang
// (seen with `sluice train`). On an H200 host (16 cores) 4 parse threads
// did not feed the GPU step faster (2.2 M samples/s against 2.5-2.7 M with
// one).
int ParseThreads(const TrainOptions& o) { return std::max(1, o.parse_threads); }

Dataset InputDataset(const RecordFiles& files, int64_t batch,
                     std::optional<uint64_t> shuffle_seed,
                     const ImageLabelParser& parser, int parse_threads,
                     PipelineMetrics* metrics,
                     const distributed::ShardPlan* shard = nullptr) {
  TFRecordDatasetOptions ro;
  ro.compression = files.compression;
  const size_t nfiles = shard ? shard->files.size() : files.files.size();
  if (nfiles > 1) ro.num_parallel_reads = std::min<int>(4, nfiles);
  ro.metrics = metrics ? metrics->Stage("read") : nullptr;
  // A rank's share (data-parallel) keeps its last short batch: every
  // record trains once per epoch.
  Dataset ds = shard ? distributed::ShardedRecords(*shard, ro)
                     : TFRecordDataset(files.files, ro);
  if (shuffle_seed.has_value()) ds = ds.Shuffle(10000, *shuffle_seed);
  ds = ds.Batch(
      batch, /*drop_remainder=*/shuffle_seed.has_value() && shard == nullptr);
  MapOptions mo;
  if (parse_threads > 1) mo.num_parallel_calls = parse_threads;
  mo.deterministic = true;
  mo.metrics = metrics ? metrics->Stage("parse") : nullptr;
  ds = ds.Map(
      [parser](TensorTuple t) -> absl::StatusOr<TensorTuple> {
        return parser.Parse(t[0]);
      },
      mo);
  return ds.Prefetch(4, metrics ? metrics->Stage("prefetch") : nullptr);
}

// The parse stage's parser: raw pixels are copied; encoded images are
// decoded (and, for training batches with `augment`, padded, randomly
// cropped back and randomly flipped).
absl::StatusOr<ImageLabelParser> MakeParser(const TrainOptions& o,
                                            std::shared_ptr<BufferPool> pool,
                                            bool training) {
  if (!o.encoded_images)
    return ImageLabelParser::Create(o.height * o.width, std::move(pool));
  const bool augment = training && o.augment;
  ImageAugmentOptions a;
  a.channels = 1;
  a.height = o.height;
  a.width = o.width;
  a.pad = augment ? o.augment_pad : 0;
  a.random_crop = augment;
  a.random_flip = augment;
  a.dtype = DType::kUInt8;
  a.seed = static_cast<uint64_t>(o.seed) * 7919u + 17u;
  SLUICE_ASSIGN_OR_RETURN(ImageAugmenter decoder, ImageAugmenter::Create(a));
  return ImageLabelParser::CreateForEncoded(std::move(decoder),
                                            std::move(pool));
}

}  // namespace

absl::StatusOr<TrainInputs> TrainInputs::Create(const TrainOptions& o,
                                                DeviceContext* device,
                                                InputShares shares,
                                                std::ostream* log,
                                                int first_epoch) {
  // Fewer files than shares: record sharding, said once (never silently:
  // tensorflow#42146). Whether a plan shards by record depends on the
  // counts alone, not on the epoch.
  if (log != nullptr && shares.train_sharded) {
    const distributed::ShardPlan plan = distributed::PlanEpochShard(
        o.train.files, shares.train_index, shares.train_count, first_epoch,
        static_cast<uint64_t>(o.seed), shares.holder);
    if (!plan.note.empty()) *log << "training input: " << plan.note << "\n";
  }
  if (log != nullptr && shares.test_sharded) {
    const distributed::ShardPlan plan =
        distributed::PlanEpochShard(o.test.files, shares.test_index,
                                    shares.test_count, 0, 0, shares.holder);
    if (!plan.note.empty()) *log << "test input: " << plan.note << "\n";
  }
  std::shared_ptr<BufferPool> pinned;
  if (device != nullptr) {
    pinned = MakeBatchBufferPool(
        static_cast<size_t>(o.batch_size * o.height * o.width), kPinnedBatches);
  }
  SLUICE_ASSIGN_OR_RETURN(ImageLabelParser parser,
                          MakeParser(o, pinned, /*training=*/false));
  SLUICE_ASSIGN_OR_RETURN(ImageLabelParser train_parser,
                          MakeParser(o, pinned, /*training=*/true));
  return TrainInputs(o, device, shares, std::move(parser),
                     std::move(train_parser));
}

absl::StatusOr<std::unique_ptr<EpochInput>> TrainInputs::StartEpoch(
    int epoch) const {
  const TrainOptions& o = *o_;
  auto in = std::make_unique<EpochInput>();
  std::optional<distributed::ShardPlan> plan;
  uint64_t shuffle_seed = static_cast<uint64_t>(o.seed) * 1000003u + epoch + 1;
  if (shares_.train_sharded) {
    plan = distributed::PlanEpochShard(o.train.files, shares_.train_index,
                                       shares_.train_count, epoch,
                                       static_cast<uint64_t>(o.seed));
    shuffle_seed = distributed::ShuffleSeed(static_cast<uint64_t>(o.seed),
                                            epoch, shares_.train_index);
  }
  Dataset ds =
      InputDataset(o.train, o.batch_size, shuffle_seed, train_parser_,
                   ParseThreads(o), &in->metrics, plan ? &*plan : nullptr);
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Iterator> it, ds.MakeIterator());
  // The pipeline's device prefetch: each batch copied on its own stream
  // into a staging slot; a slot is refilled only after the compute stream
  // has passed the step that read it.
  DevicePrefetchOptions po;
  po.depth = o.prefetch_depth;
  po.device = device_;
  po.metrics = in->metrics.Stage("device_copy");
  std::shared_ptr<Iterator> source(std::move(it));
  SLUICE_ASSIGN_OR_RETURN(
      in->prefetch,
      DevicePrefetcher::Create(
          [source](const WaitOptions&) { return source->GetNext(); }, po));
  return in;
}

absl::StatusOr<std::unique_ptr<Iterator>> TrainInputs::TestBatches() const {
  const TrainOptions& o = *o_;
  // Data-parallel: each rank evaluates its share of the test set (by record
  // when it has fewer files than ranks) and the counts are summed, so every
  // test record counts once whatever N is.
  std::optional<distributed::ShardPlan> plan;
  if (shares_.test_sharded) {
    plan = distributed::PlanEpochShard(o.test.files, shares_.test_index,
                                       shares_.test_count, 0, 0);
  }
  return InputDataset(o.test, 1000, std::nullopt, test_parser_, ParseThreads(o),
                      nullptr, plan ? &*plan : nullptr)
      .MakeIterator();
}

}  // namespace sluice::train::internal
