#include "graph/ops/parsing_ops.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "coordinator/coordinator.h"
#include "graph/ops/ops.h"
#include "graph/session.h"
#include "readers/example_builder.h"

namespace sluice {
namespace {

std::string Record(int64_t label, std::string_view img) {
  ExampleBuilder b;
  b.AddInt64s("label", {label});
  b.AddBytes("img_raw", {img});
  return b.Serialize();
}

// The seed's get_batch(): parse_example -> decode_raw -> reshape -> cast.
TEST(ParsingOpsTest, ParseDecodeReshapeCastAsTheSeedsGetBatch) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output serialized = ops::Placeholder(root, DType::kString, {-1});
  ops::ParsedFeatures f = ops::ParseExample(
      root, serialized,
      {FixedLenFeature{"label", DType::kInt64, {}, std::nullopt},
       FixedLenFeature{"img_raw", DType::kString, {}, std::nullopt}});
  Output image = ops::DecodeRaw(root, f.dense[1], DType::kUInt8);
  Output batch_image = ops::Reshape(root, image, {2, 2, 2, 1});
  Output batch_label = ops::Cast(root, f.dense[0], DType::kInt32);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(f.dense[0].shape(), TensorShape({-1}));
  Session s(&g);
  std::vector<Tensor> out;
  Tensor in = Tensor::FromStrings({Record(3, "abcd"), Record(7, "efgh")}, {2});
  ASSERT_TRUE(s.Run({{serialized, in}}, {batch_image, batch_label}, &out).ok());
  EXPECT_EQ(out[0].shape(), TensorShape({2, 2, 2, 1}));
  EXPECT_EQ(out[0].data<uint8_t>()[0], 'a');
  EXPECT_EQ(out[0].data<uint8_t>()[7], 'h');
  EXPECT_THAT(std::vector<int32_t>(out[1].data<int32_t>(), out[1].data<int32_t>() + 2),
              ::testing::ElementsAre(3, 7));
}

TEST(ParsingOpsTest, ParseSingleExampleIntoShuffleBatch) {
  Graph g;
  Scope root = Scope::Root(&g);
  // Records flow through a string queue, as from a reader.
  Output records = ops::FIFOQueue(root, {.dtypes = {DType::kString}, .shapes = {TensorShape{}}});
  Output all = ops::Placeholder(root, DType::kString, {-1});
  Operation fill = ops::QueueEnqueueMany(root, records, {all});
  Operation close = ops::QueueClose(root, records);
  Output one = ops::QueueDequeue(root, records)[0];
  std::vector<Output> parsed = ops::ParseSingleExample(
      root, one, {FixedLenFeature{"label", DType::kInt64, {}, std::nullopt}});
  std::vector<Output> batch = ops::ShuffleBatch(root, {parsed[0]}, 5, 20, 5, {.seed = 1});
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(batch[0].shape(), TensorShape({5}));
  Session s(&g);
  std::vector<std::string> recs;
  for (int i = 0; i < 10; ++i) recs.push_back(Record(i, "x"));
  ASSERT_TRUE(s.Run({{all, Tensor::FromStrings(recs, {10})}}, {}, {fill, close}, nullptr).ok());
  Coordinator coord;
  ASSERT_TRUE(StartQueueRunners(&s, &coord).ok());
  int64_t sum = 0;
  for (int k = 0; k < 2; ++k) {
    std::vector<Tensor> out;
    absl::Status st = s.Run(RunOptions::Timeout(absl::Seconds(30)), {}, {batch[0]}, {}, &out);
    ASSERT_TRUE(st.ok()) << st;
    for (int i = 0; i < 5; ++i) sum += out[0].data<int64_t>()[i];
  }
  EXPECT_EQ(sum, 45);
  EXPECT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
}

TEST(ParsingOpsTest, MissingFeatureWithoutDefaultFailsTheRun) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output serialized = ops::Placeholder(root, DType::kString, {-1});
  ops::ParsedFeatures f = ops::ParseExample(root, serialized,
                                            {FixedLenFeature{"age", DType::kInt64, {}, std::nullopt}});
  Session s(&g);
  std::vector<Tensor> out;
  absl::Status st = s.Run({{serialized, Tensor::FromStrings({Record(1, "x")}, {1})}}, {f.dense[0]}, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), ::testing::HasSubstr("age"));
}

}  // namespace
}  // namespace sluice
