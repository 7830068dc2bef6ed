#include "graph/ops/queue_ops.h"

#include <set>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "coordinator/coordinator.h"
#include "graph/ops/ops.h"
#include "graph/session.h"
#include "graph/variables.h"

namespace sluice {
namespace {

// A producer graph: a FIFO queue of example ids filled from a feedless
// counter variable, so the runner loop needs no feeds.
struct Source {
  Output ids_queue;
  Operation fill;
};

TEST(QueueOpsTest, ShuffleBatchFedByQueueRunnersDeliversEveryElementOnce) {
  Graph g;
  Scope root = Scope::Root(&g);
  // Source: a counter variable; each enqueue step takes the next id.
  Variable counter = NewVariable(root, 0, {.name = "counter", .dtype = DType::kInt32});
  Output next = ops::AssignAdd(root, counter, 1);
  Output feature = ops::Cast(root, ops::Mul(root, next, 2), DType::kFloat32);
  std::vector<Output> batch =
      ops::ShuffleBatch(root, {next, feature}, /*batch_size=*/4, /*capacity=*/16,
                        /*min_after_dequeue=*/4, {.num_threads = 2, .seed = 7});
  ASSERT_TRUE(root.ok()) << root.status();
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].name(), "shuffle_batch:0");
  EXPECT_EQ(batch[0].shape(), TensorShape({4}));
  EXPECT_EQ(batch[1].shape(), TensorShape({4}));
  // A "model" on the batch: the mean feature.
  Output mean = ops::ReduceMean(root, batch[1]);

  Session s(&g);
  ASSERT_TRUE(s.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  Coordinator coord;
  auto threads = StartQueueRunners(&s, &coord);
  ASSERT_TRUE(threads.ok()) << threads.status();
  EXPECT_EQ(threads->size(), 3u);  // two loops and the close-on-stop thread
  std::set<int32_t> seen;
  for (int step = 0; step < 10; ++step) {
    std::vector<Tensor> out;
    absl::Status st = s.Run(RunOptions::Timeout(absl::Seconds(30)), {}, {batch[0], batch[1], mean},
                            {}, &out);
    ASSERT_TRUE(st.ok()) << st;
    float sum = 0;
    for (int i = 0; i < 4; ++i) {
      const int32_t id = out[0].data<int32_t>()[i];
      EXPECT_TRUE(seen.insert(id).second) << "id " << id << " delivered twice";
      EXPECT_EQ(out[1].data<float>()[i], 2.0f * id);  // components stay paired
      sum += out[1].data<float>()[i];
    }
    EXPECT_FLOAT_EQ(out[2].scalar<float>(), sum / 4);
  }
  EXPECT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
  EXPECT_EQ(seen.size(), 40u);
}

TEST(QueueOpsTest, BatchClosesQueueWhenInputIsExhausted) {
  Graph g;
  Scope root = Scope::Root(&g);
  // Input: a FIFO queue of 10 ids, closed after filling; the batch runner
  // dequeues from it until OutOfRange, then closes the batch queue.
  Output src = ops::FIFOQueue(root, {.dtypes = {DType::kInt64}, .shapes = {TensorShape{}}, .capacity = 10});
  Output ids = ops::Placeholder(root, DType::kInt64, {10});
  Operation fill = ops::QueueEnqueueMany(root, src, {ids});
  Operation close_src = ops::QueueClose(root, src);
  std::vector<Output> one = ops::QueueDequeue(root, src);
  std::vector<Output> batch = ops::Batch(root, {one[0]}, 4, 8, {.allow_smaller_final_batch = true});
  ASSERT_TRUE(root.ok()) << root.status();
  Session s(&g);
  std::vector<int64_t> v(10);
  for (int i = 0; i < 10; ++i) v[i] = i;
  ASSERT_TRUE(s.Run({{ids, Tensor::FromVector<int64_t>(absl::Span<const int64_t>(v), {10})}}, {},
                    {fill, close_src}, nullptr).ok());
  Coordinator coord;
  ASSERT_TRUE(StartQueueRunners(&s, &coord).ok());
  std::vector<int64_t> got;
  while (true) {
    std::vector<Tensor> out;
    absl::Status st = s.Run(RunOptions::Timeout(absl::Seconds(30)), {}, {batch[0]}, {}, &out);
    if (absl::IsOutOfRange(st)) break;
    ASSERT_TRUE(st.ok()) << st;
    for (int64_t i = 0; i < out[0].NumElements(); ++i) got.push_back(out[0].data<int64_t>()[i]);
  }
  EXPECT_THAT(got, ::testing::ElementsAre(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
  EXPECT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
}

TEST(QueueOpsTest, ShuffleBatchNeedsFullyDefinedShapes) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output x = ops::Placeholder(root, DType::kFloat32, {-1});
  ops::ShuffleBatch(root, {x}, 2, 10, 2);
  EXPECT_EQ(root.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(root.status().message()), ::testing::HasSubstr("fully defined"));
}

}  // namespace
}  // namespace sluice
