// train::Train end to end on small synthetic IDX data converted by
// cli::ConvertIdx: accuracy above chance, checkpoints, deterministic
// resume, TensorBoard events and the --json line.

#include "train/trainer.h"

#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/train_measure.h"
#include "device/device_registry.h"
#include "cli/convert.h"
#include "gmock/gmock.h"
#include "graph/checkpoint_state.h"
#include "graph_training/event_decoder.h"
#include "graph_training/test_tmpdir.h"
#include "gtest/gtest.h"
#include "readers/record_reader.h"
#include "support/synthetic_idx.h"

namespace sluice::train {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kTrain = 640, kTest = 200, kBatch = 32;

struct Data {
  RecordFiles train, test;
};

Data Convert(const testing::TempDir& tmp) {
  Data d;
  const std::string idx = tmp.Join("idx");
  const testing::IdxPair tr = testing::WriteBarIdx(idx, "train", kTrain, 11);
  const testing::IdxPair te = testing::WriteBarIdx(idx, "t10k", kTest, 12);
  cli::ConvertIdxOptions o;
  o.images = tr.images;
  o.labels = tr.labels;
  o.out_dir = tmp.Join("data");
  o.prefix = "train";
  o.shards = 2;
  auto train = cli::ConvertIdx(o);
  EXPECT_TRUE(train.ok()) << train.status();
  o.images = te.images;
  o.labels = te.labels;
  o.prefix = "test";
  o.shards = 1;
  auto test = cli::ConvertIdx(o);
  EXPECT_TRUE(test.ok()) << test.status();
  if (!train.ok() || !test.ok()) return d;
  d.train = {train->files, train->records, train->compression};
  d.test = {test->files, test->records, test->compression};
  return d;
}

TrainOptions Options(const Data& d, ModelKind model, int epochs, const std::string& logdir) {
  TrainOptions o;
  o.model = model;
  o.device = "cpu";
  o.epochs = epochs;
  o.batch_size = kBatch;
  o.seed = 5;
  o.deterministic = true;
  o.parse_threads = 1;
  o.train = d.train;
  o.test = d.test;
  o.logdir = logdir;
  return o;
}

std::vector<testing::DecodedEvent> ReadEvents(const std::string& logdir) {
  std::vector<testing::DecodedEvent> out;
  for (const auto& entry : std::filesystem::directory_iterator(logdir)) {
    if (entry.path().filename().string().rfind("events.out.tfevents", 0) != 0) continue;
    auto reader = RecordReader::Open(entry.path().string(), {});
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) continue;
    while (true) {
      auto rec = (*reader)->Next();
      if (!rec.ok()) {
        EXPECT_EQ(rec.status().code(), absl::StatusCode::kOutOfRange) << rec.status();
        break;
      }
      testing::DecodedEvent e;
      EXPECT_TRUE(testing::DecodeEvent(rec->data, &e)) << "record " << out.size();
      out.push_back(std::move(e));
    }
  }
  return out;
}

TEST(TrainerTest, MlpBeatsChanceAndCheckpointsEveryEpoch) {
  testing::TempDir tmp;
  const Data d = Convert(tmp);
  ASSERT_EQ(d.train.records, kTrain);
  const std::string logdir = tmp.Join("run");
  absl::StatusOr<TrainResult> r = Train(Options(d, ModelKind::kMlp, 2, logdir));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->model, "mlp");
  EXPECT_EQ(r->device, "cpu");
  EXPECT_EQ(r->epochs, 2);
  EXPECT_EQ(r->steps, 2 * (kTrain / kBatch));
  ASSERT_EQ(r->per_epoch.size(), 2u);
  // Ten classes: chance is 0.1; the bars are easy to tell apart.
  EXPECT_GT(r->test_accuracy, 0.6);
  EXPECT_EQ(r->test_accuracy, r->per_epoch[1].test_accuracy);
  EXPECT_GT(r->samples_per_second, 0);
  EXPECT_GE(r->input_wait_fraction, 0);
  EXPECT_LE(r->input_wait_fraction, 1);
  std::optional<std::string> last = LatestCheckpoint(logdir);
  ASSERT_TRUE(last.has_value());
  EXPECT_THAT(*last, ::testing::EndsWith(absl::StrCat("model.ckpt-", 2 * (kTrain / kBatch))));
}

// The benchmark's step sources (bench/train_measure.h): input_only takes
// every batch and trains nothing (the model stays at chance); step_only
// runs every step, on the epoch's first batch.
TEST(TrainerTest, InputOnlyAndStepOnlyMeasureTheHalves) {
  testing::TempDir tmp;
  const Data d = Convert(tmp);
  TrainOptions o = Options(d, ModelKind::kMlp, 1, "");
  o.step_source = bench::InputOnly();
  absl::StatusOr<TrainResult> input = Train(o);
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(input->steps, kTrain / kBatch);
  EXPECT_LT(input->test_accuracy, 0.3);
  o.step_source = bench::StepOnly();
  absl::StatusOr<TrainResult> step = Train(o);
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(step->steps, kTrain / kBatch);
  EXPECT_GT(step->test_accuracy, 0.3);  // the steps ran (this data is easy)
}

// --device: cpu, auto, gpu, gpu:N as a GPU ordinal (-1: the CPU); the
// graph is placed on /gpu:N and the input prefetched to that device.
TEST(TrainerTest, DeviceNamesAGpuOrdinal) {
  EXPECT_EQ(*GpuIndex("cpu"), -1);
  EXPECT_TRUE(absl::IsInvalidArgument(GpuIndex("gpu:x").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(GpuIndex("gpu:-1").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(GpuIndex("tpu").status()));
  if (!GpuAvailable()) {
    EXPECT_EQ(*GpuIndex("auto"), -1);
    EXPECT_TRUE(absl::IsNotFound(GpuIndex("gpu:1").status()));
    EXPECT_TRUE(absl::IsNotFound(GpuIndex("gpu").status()));
  } else {
    EXPECT_EQ(*GpuIndex("auto"), 0);
    EXPECT_EQ(*GpuIndex("gpu"), 0);
    absl::StatusOr<int> missing = GpuIndex(absl::StrCat("gpu:", GpuDeviceCount()));
    EXPECT_TRUE(absl::IsInvalidArgument(missing.status())) << missing.status();
  }
}

TEST(TrainerTest, SoftmaxAndCnnTrainAboveChance) {
  testing::TempDir tmp;
  const Data d = Convert(tmp);
  for (ModelKind k : {ModelKind::kSoftmax, ModelKind::kCnn}) {
    TrainOptions o = Options(d, k, 1, "");
    absl::StatusOr<TrainResult> r = Train(o);
    ASSERT_TRUE(r.ok()) << ModelKindName(k) << ": " << r.status();
    EXPECT_GT(r->test_accuracy, 0.3) << ModelKindName(k);
  }
}

TEST(TrainerTest, DeterministicResumeContinuesFromTheSavedStepWithIdenticalResults) {
  testing::TempDir tmp;
  const Data d = Convert(tmp);
  absl::StatusOr<TrainResult> whole = Train(Options(d, ModelKind::kMlp, 2, tmp.Join("whole")));
  ASSERT_TRUE(whole.ok()) << whole.status();
  ASSERT_EQ(whole->per_epoch.size(), 2u);

  const std::string split = tmp.Join("split");
  absl::StatusOr<TrainResult> first = Train(Options(d, ModelKind::kMlp, 1, split));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->per_epoch[0].mean_loss, whole->per_epoch[0].mean_loss);
  TrainOptions again = Options(d, ModelKind::kMlp, 2, split);
  again.resume = true;
  absl::StatusOr<TrainResult> rest = Train(again);
  ASSERT_TRUE(rest.ok()) << rest.status();
  // Only the second epoch ran, from the saved step, and it is the same
  // computation as in the uninterrupted run.
  EXPECT_EQ(rest->steps, kTrain / kBatch);
  EXPECT_EQ(rest->epochs, 2);
  ASSERT_EQ(rest->per_epoch.size(), 1u);
  EXPECT_EQ(rest->per_epoch[0].epoch, 2);
  EXPECT_EQ(rest->per_epoch[0].mean_loss, whole->per_epoch[1].mean_loss);
  EXPECT_EQ(rest->test_accuracy, whole->test_accuracy);
  EXPECT_THAT(LatestCheckpoint(split).value_or(""),
              ::testing::EndsWith(absl::StrCat("model.ckpt-", 2 * (kTrain / kBatch))));

  // Resuming a finished run trains nothing more.
  absl::StatusOr<TrainResult> done = Train(again);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->steps, 0);
  EXPECT_EQ(done->epochs, 2);
}

TEST(TrainerTest, EventsHaveLossAccuracyHistogramsAndImages) {
  testing::TempDir tmp;
  const Data d = Convert(tmp);
  const std::string logdir = tmp.Join("run");
  absl::StatusOr<TrainResult> r = Train(Options(d, ModelKind::kMlp, 2, logdir));
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<testing::DecodedEvent> events = ReadEvents(logdir);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  std::set<std::string> scalars, histograms;
  int images = 0, accuracy_points = 0;
  for (const auto& e : events) {
    for (const auto& v : e.values) {
      if (v.simple_value.has_value()) scalars.insert(v.tag);
      if (v.histo.has_value()) {
        histograms.insert(v.tag);
        EXPECT_GT(v.histo->num, 0) << v.tag;
      }
      if (v.image.has_value()) {
        ++images;
        EXPECT_EQ(v.image->height, 28);
        EXPECT_EQ(v.image->width, 28);
        EXPECT_EQ(v.image->encoded.substr(1, 3), "PNG");
      }
      if (v.tag == "accuracy") {
        ++accuracy_points;
        EXPECT_GT(*v.simple_value, 0.1f);
        EXPECT_EQ(e.step % (kTrain / kBatch), 0);
      }
    }
  }
  EXPECT_TRUE(scalars.count("loss"));
  EXPECT_TRUE(scalars.count("accuracy"));
  EXPECT_TRUE(scalars.count("samples_per_second"));
  EXPECT_TRUE(scalars.count("input_wait_fraction"));
  EXPECT_TRUE(scalars.count("queue/device_prefetch/fraction_of_3_full"));
  EXPECT_TRUE(scalars.count("pipeline/parse/busy_fraction"));
  EXPECT_EQ(accuracy_points, 2);
  // A histogram per weight (mlp: two kernels and two biases).
  EXPECT_EQ(histograms.size(), 4u);
  EXPECT_EQ(images, 3);
}

TEST(TrainerTest, JsonLineHasExactlyTheDocumentedKeys) {
  TrainResult r;
  r.model = "mlp";
  r.device = "cpu";
  r.epochs = 3;
  r.test_accuracy = 0.8812;
  r.samples_per_second = 12345.6;
  r.input_wait_fraction = 0.0123;
  const std::string json = TrainResultJson(r);
  EXPECT_EQ(json.find('\n'), std::string::npos);
  std::vector<std::string> keys;
  const std::regex key("\"([a-z_0-9]+)\":");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), key); it != std::sregex_iterator();
       ++it) {
    keys.push_back((*it)[1]);
  }
  EXPECT_THAT(keys, ::testing::ElementsAre("model", "device", "epochs", "test_accuracy",
                                           "samples_per_second", "input_wait_fraction", "rank",
                                           "world_size", "records_seen", "params_sha256"));
  EXPECT_THAT(json, HasSubstr("\"model\":\"mlp\""));
  EXPECT_THAT(json, HasSubstr("\"epochs\":3"));
  EXPECT_THAT(json, HasSubstr("\"test_accuracy\":0.8812"));
}

TEST(TrainerTest, BadOptionsAreInvalidArgument) {
  testing::TempDir tmp;
  const Data d = Convert(tmp);
  TrainOptions o = Options(d, ModelKind::kMlp, 1, "");
  o.device = "tpu";
  EXPECT_EQ(Train(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.device = "cpu";
  o.batch_size = kTrain + 1;
  EXPECT_EQ(Train(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.batch_size = 0;
  EXPECT_EQ(Train(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.batch_size = kBatch;
  o.device = "gpu";
  if (!GpuAvailable()) {
    EXPECT_EQ(Train(o).status().code(), absl::StatusCode::kNotFound);
  } else {
    // Adam's composed update runs on the GPU too (not the default there).
    o.optimizer = OptimizerKind::kAdam;
    absl::StatusOr<TrainResult> r = Train(o);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->device, "gpu");
  }
}

}  // namespace
}  // namespace sluice::train
