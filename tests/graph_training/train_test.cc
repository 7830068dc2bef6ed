// Training end to end on the CPU: TFRecords of tf.train.Examples → a
// reader source → shuffle_batch (the pipeline's RandomShuffleQueue and
// QueueRunner under a Coordinator) → Session steps of a softmax regression
// or an MLP, to ≥ 99% accuracy on separable data; and deterministic resume
// from a checkpoint.

#include <iostream>
#include <mutex>

#include "coordinator/coordinator.h"
#include "graph/optimizers/gradient_descent.h"
#include "graph/optimizers/momentum.h"
#include "graph/optimizers/adam.h"
#include "graph/saver.h"
#include "pipeline/batching.h"
#include "readers/parse_example.h"
#include "readers/record_reader.h"
#include "test_tmpdir.h"
#include "train_util.h"

namespace sluice {
namespace {

// One parsed Example per call, cycling through the file forever; the
// coordinator's stop ends it.
TensorSource ExampleSource(const std::string& path, int dim) {
  struct State {
    explicit State(ParseSpec s) : spec(std::move(s)) {}
    std::mutex mu;
    std::unique_ptr<RecordReader> reader;
    ParseSpec spec;
  };
  auto spec = ParseSpec::Create({{"x", DType::kFloat32, TensorShape{dim}, {}},
                                 {"label", DType::kInt64, TensorShape{}, {}}});
  EXPECT_TRUE(spec.ok());
  auto st = std::make_shared<State>(*spec);
  return [st, path](const WaitOptions&) -> absl::StatusOr<TensorTuple> {
    std::lock_guard<std::mutex> l(st->mu);
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (st->reader == nullptr) {
        SLUICE_ASSIGN_OR_RETURN(st->reader, RecordReader::Open(path, {}));
      }
      absl::StatusOr<RecordView> rec = st->reader->Next();
      if (rec.ok()) {
        ParseResult r;
        std::string_view one = rec->data;
        SLUICE_RETURN_IF_ERROR(ParseExample(absl::Span<const std::string_view>(&one, 1), st->spec, &r));
        return TensorTuple{r.dense[0].Row(0), r.dense[1].Row(0)};
      }
      if (rec.status().code() != absl::StatusCode::kOutOfRange) return rec.status();
      st->reader.reset();  // next epoch
    }
    return absl::InternalError("empty record file");
  };
}

double TrainThroughShuffleBatch(int hidden, Optimizer* opt, int steps) {
  testing::TempDir dir;
  const int dim = 20, classes = 10;
  testing::Dataset train = testing::MakeSeparable(2000, dim, classes, 1);
  testing::Dataset test = testing::MakeSeparable(1000, dim, classes, 2);
  const std::string path = dir.Join("train.tfrecord");
  testing::WriteExamples(path, train);

  Graph g;
  Scope root = Scope::Root(&g);
  g.set_seed(5);
  testing::Model m = testing::BuildClassifier(root, dim, classes, hidden);
  auto train_op = opt->Minimize(root, m.loss);
  EXPECT_TRUE(train_op.ok()) << train_op.status();
  if (!train_op.ok()) return 0;
  Session sess(&g);
  EXPECT_TRUE(sess.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());

  InputCollections collections;
  BatchOptions options;
  options.batch_size = 64;
  options.capacity = 600;
  options.min_after_dequeue = 300;
  options.dtypes = {DType::kFloat32, DType::kInt64};
  options.shapes = {TensorShape{dim}, TensorShape{}};
  options.seed = 9;
  auto batcher = ShuffleBatch(ExampleSource(path, dim), options, &collections);
  EXPECT_TRUE(batcher.ok()) << batcher.status();
  if (!batcher.ok()) return 0;
  Coordinator coord;
  auto threads = StartQueueRunners(&collections.runners, &coord);
  EXPECT_TRUE(threads.ok()) << threads.status();
  WaitOptions wait;
  wait.deadline = absl::Now() + absl::Seconds(120);
  for (int step = 0; step < steps; ++step) {
    auto batch = batcher->Dequeue(wait);
    EXPECT_TRUE(batch.ok()) << batch.status();
    if (!batch.ok()) break;
    EXPECT_TRUE(sess.Run({{m.x, (*batch)[0]}, {m.y, (*batch)[1]}}, {}, {*train_op}, nullptr).ok());
  }
  EXPECT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
  const double accuracy = testing::Accuracy(&sess, m, test);
  std::cout << (hidden > 0 ? "mlp" : "softmax") << " test accuracy " << accuracy << "\n";
  return accuracy;
}

TEST(TrainTest, SoftmaxRegressionFromTfrecordsThroughShuffleBatch) {
  GradientDescentOptimizer opt(0.5);
  EXPECT_GE(TrainThroughShuffleBatch(/*hidden=*/0, &opt, 300), 0.99);
}

TEST(TrainTest, MlpFromTfrecordsThroughShuffleBatch) {
  AdamOptimizer opt(0.01);
  EXPECT_GE(TrainThroughShuffleBatch(/*hidden=*/32, &opt, 300), 0.99);
}

// Deterministic mode: batches in a fixed order, graph seed set. Ten steps,
// save, a new process (graph, session) restores and does ten more: the
// twenty losses are exactly those of one uninterrupted run, Momentum's
// slots included.
TEST(TrainTest, ResumedRunContinuesWithExactlyTheUninterruptedLosses) {
  testing::TempDir dir;
  const int dim = 20, classes = 10, batch = 32;
  testing::Dataset data = testing::MakeSeparable(640, dim, classes, 3);
  auto run = [&](int first_step, int last_step, bool restore, bool save) {
    Graph g;
    Scope root = Scope::Root(&g);
    g.set_seed(77);
    testing::Model m = testing::BuildClassifier(root, dim, classes, 16);
    Variable step = NewVariable(root, int64_t{0}, {.name = "global_step", .trainable = false});
    MomentumOptimizer opt(0.05, 0.9);
    auto train_op = opt.Minimize(root, m.loss, {.global_step = step});
    EXPECT_TRUE(train_op.ok());
    Session sess(&g);
    Saver saver(GlobalVariables(g));
    EXPECT_TRUE(sess.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
    if (restore) {
      auto latest = LatestCheckpoint(dir.path());
      EXPECT_TRUE(latest.has_value());
      EXPECT_TRUE(saver.Restore(&sess, *latest).ok());
      EXPECT_EQ(sess.ReadVariable(step)->scalar<int64_t>(), first_step);
    }
    std::vector<float> losses;
    for (int s = first_step; s < last_step; ++s) {
      const int64_t off = (s * batch) % data.size();
      Tensor x = Tensor::FromVector<float>(absl::Span<const float>(data.x.data() + off * dim, batch * dim),
                                           {batch, dim});
      Tensor y = Tensor::FromVector<int64_t>(absl::Span<const int64_t>(data.y.data() + off, batch), {batch});
      std::vector<Tensor> out;
      EXPECT_TRUE(sess.Run({{m.x, x}, {m.y, y}}, {m.loss}, {*train_op}, &out).ok());
      losses.push_back(out[0].scalar<float>());
    }
    if (save) {
      EXPECT_TRUE(saver.Save(&sess, dir.Join("model.ckpt"), step).ok());
    }
    return losses;
  };
  std::vector<float> whole = run(0, 20, false, false);
  std::vector<float> first = run(0, 10, false, true);
  std::vector<float> second = run(10, 20, true, false);
  first.insert(first.end(), second.begin(), second.end());
  ASSERT_EQ(first.size(), whole.size());
  for (size_t i = 0; i < whole.size(); ++i) EXPECT_EQ(first[i], whole[i]) << "step " << i;
  EXPECT_LT(whole.back(), whole.front());
}

}  // namespace
}  // namespace sluice
