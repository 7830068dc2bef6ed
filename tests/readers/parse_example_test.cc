#include "readers/parse_example.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "readers/example_builder.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

template <typename T>
std::vector<T> Values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.NumElements());
}
std::vector<std::string> Strings(const Tensor& t) {
  std::vector<std::string> out;
  for (int64_t i = 0; i < t.NumElements(); ++i) out.emplace_back(t.string(i));
  return out;
}

std::vector<std::string_view> Views(const std::vector<std::string>& v) {
  return std::vector<std::string_view>(v.begin(), v.end());
}

std::vector<std::string> ThreeRecords() {
  std::vector<std::string> r;
  ExampleBuilder a;
  a.AddInt64s("label", {3}).AddFloats("xy", {1, 2}).AddBytes("name", {"a"});
  a.AddInt64s("tags", {10, 11, 12});
  r.push_back(a.Serialize());
  ExampleBuilder b;
  b.AddInt64s("label", {4}).AddFloats("xy", {3, 4}).AddBytes("name", {"bb"});
  r.push_back(b.Serialize());
  ExampleBuilder c;
  c.AddInt64s("label", {-5}).AddFloats("xy", {5, 6}, ListEncoding::kUnpacked);
  c.AddEmpty("name").AddInt64s("tags", {13});
  r.push_back(c.Serialize());
  return r;
}

TEST(ParseExampleTest, DenseFeaturesFillBatchTensors) {
  auto spec = ParseSpec::Create({{"label", DType::kInt64, TensorShape{}, std::nullopt},
                                 {"xy", DType::kFloat32, TensorShape{2}, std::nullopt},
                                 {"name", DType::kString, TensorShape{},
                                  Tensor::StringScalar("none")}});
  ASSERT_TRUE(spec.ok()) << spec.status();
  std::vector<std::string> records = ThreeRecords();
  ParseResult result;
  ASSERT_TRUE(ParseExample(Views(records), *spec, &result).ok());
  ASSERT_EQ(result.dense.size(), 3u);
  EXPECT_EQ(result.dense[0].shape(), (TensorShape{3}));
  EXPECT_THAT(Values<int64_t>(result.dense[0]), ElementsAre(3, 4, -5));
  EXPECT_EQ(result.dense[1].shape(), (TensorShape{3, 2}));
  EXPECT_THAT(Values<float>(result.dense[1]), ElementsAre(1, 2, 3, 4, 5, 6));
  // The empty Feature in record 2 counts as missing: the default applies.
  EXPECT_THAT(Strings(result.dense[2]), ElementsAre("a", "bb", "none"));
}

TEST(ParseExampleTest, StringsAreCopiedWithoutOwnerAndViewedWithOne) {
  auto spec = ParseSpec::Create({{"name", DType::kString, TensorShape{}, std::nullopt}});
  ExampleBuilder b;
  b.AddBytes("name", {"payload"});
  std::string record = b.Serialize();
  RefPtr owner = Buffer::Create(HostAllocator(), 1);
  std::string_view one[] = {record};
  ParseResult copied, viewed;
  ASSERT_TRUE(ParseExample(one, *spec, &copied).ok());
  ParseOptions with_owner;
  with_owner.owners = absl::MakeConstSpan(&owner, 1);
  ASSERT_TRUE(ParseExample(one, *spec, &viewed, with_owner).ok());
  EXPECT_EQ(copied.dense[0].string(0), "payload");
  EXPECT_EQ(viewed.dense[0].string(0), "payload");
  const char* in_record = record.data() + record.find("payload");
  EXPECT_NE(copied.dense[0].string(0).data(), in_record);
  EXPECT_EQ(viewed.dense[0].string(0).data(), in_record);
  EXPECT_EQ(owner->ref_count(), 2);  // the result keeps the owner alive
}

TEST(ParseExampleTest, MissingFeatureWithoutDefaultNamesFeatureAndRecord) {
  auto spec = ParseSpec::Create({{"name", DType::kString, TensorShape{}, std::nullopt}});
  std::vector<std::string> records = ThreeRecords();
  ParseResult result;
  absl::Status s = ParseExample(Views(records), *spec, &result);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("record 2"));
  EXPECT_THAT(s.message(), HasSubstr("'name'"));
}

TEST(ParseExampleTest, WrongKindOrCountIsInvalidArgument) {
  std::vector<std::string> records = ThreeRecords();
  ParseResult result;
  auto wrong_kind = ParseSpec::Create({{"label", DType::kFloat32, TensorShape{}, std::nullopt}});
  absl::Status s = ParseExample(Views(records), *wrong_kind, &result);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("record 0: feature 'label' holds int64_list"));
  auto wrong_count = ParseSpec::Create({{"xy", DType::kFloat32, TensorShape{3}, std::nullopt}});
  s = ParseExample(Views(records), *wrong_count, &result);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("has 2 values"));
}

TEST(ParseExampleTest, MalformedRecordNamesTheRecord) {
  std::vector<std::string> records = ThreeRecords();
  records[1].resize(records[1].size() - 1);
  auto spec = ParseSpec::Create({{"label", DType::kInt64, TensorShape{}, std::nullopt}});
  ParseResult result;
  absl::Status s = ParseExample(Views(records), *spec, &result);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("record 1: malformed Example"));
}

TEST(ParseExampleTest, VarLenFeatureGivesSparseResult) {
  auto spec = ParseSpec::Create({}, {{"tags", DType::kInt64}, {"name", DType::kString}});
  ASSERT_TRUE(spec.ok());
  std::vector<std::string> records = ThreeRecords();
  ParseResult result;
  ASSERT_TRUE(ParseExample(Views(records), *spec, &result).ok());
  ASSERT_EQ(result.sparse.size(), 2u);
  const SparseTensor& tags = result.sparse[0];
  EXPECT_EQ(tags.indices.shape(), (TensorShape{4, 2}));
  EXPECT_THAT(Values<int64_t>(tags.indices), ElementsAre(0, 0, 0, 1, 0, 2, 2, 0));
  EXPECT_THAT(Values<int64_t>(tags.values), ElementsAre(10, 11, 12, 13));
  EXPECT_THAT(Values<int64_t>(tags.dense_shape), ElementsAre(3, 3));
  const SparseTensor& names = result.sparse[1];
  EXPECT_THAT(Strings(names.values), ElementsAre("a", "bb"));
  EXPECT_THAT(Values<int64_t>(names.indices), ElementsAre(0, 0, 1, 0));
  EXPECT_THAT(Values<int64_t>(names.dense_shape), ElementsAre(3, 1));
}

TEST(ParseExampleTest, WritesIntoPreallocatedTensors) {
  auto spec = ParseSpec::Create({{"xy", DType::kFloat32, TensorShape{2}, std::nullopt}});
  std::vector<std::string> records = ThreeRecords();
  ParseResult result;
  result.dense.push_back(Tensor(DType::kFloat32, TensorShape{3, 2}));
  const void* before = result.dense[0].raw_data();
  ASSERT_TRUE(ParseExample(Views(records), *spec, &result).ok());
  EXPECT_EQ(result.dense[0].raw_data(), before);
  EXPECT_THAT(Values<float>(result.dense[0]), ElementsAre(1, 2, 3, 4, 5, 6));
}

TEST(ParseExampleTest, DefaultIsBroadcastAndRepeatedKeyLastWins) {
  Tensor def = Tensor::FromVector<float>({9.0f}, TensorShape{});
  auto spec = ParseSpec::Create({{"v", DType::kFloat32, TensorShape{2}, def}});
  ASSERT_TRUE(spec.ok()) << spec.status();
  ExampleBuilder a;
  a.AddFloats("v", {1, 2, 3}).AddFloats("v", {4, 5});  // second entry wins
  std::vector<std::string> records = {a.Serialize(), ExampleBuilder().Serialize()};
  ParseResult result;
  ASSERT_TRUE(ParseExample(Views(records), *spec, &result).ok());
  EXPECT_THAT(Values<float>(result.dense[0]), ElementsAre(4, 5, 9, 9));
}

TEST(ParseExampleTest, BadSpecsAreRejected) {
  EXPECT_FALSE(ParseSpec::Create({{"a", DType::kInt32, TensorShape{}, std::nullopt}}).ok());
  EXPECT_FALSE(ParseSpec::Create({{"a", DType::kFloat32, TensorShape{-1}, std::nullopt}}).ok());
  EXPECT_FALSE(ParseSpec::Create({{"a", DType::kFloat32, TensorShape{3},
                                   Tensor::FromVector<float>({1, 2}, TensorShape{2})}})
                   .ok());
  EXPECT_FALSE(ParseSpec::Create({{"a", DType::kFloat32, TensorShape{}, std::nullopt}},
                                 {{"a", DType::kInt64}})
                   .ok());
}

TEST(ParseExampleTest, ParallelParseMatchesSerialAndReportsLowestBadRecord) {
  std::vector<std::string> records;
  for (int i = 0; i < 1000; ++i) {
    ExampleBuilder b;
    b.AddInt64s("label", {i}).AddBytes("s", {std::to_string(i)});
    records.push_back(b.Serialize());
  }
  auto spec = ParseSpec::Create({{"label", DType::kInt64, TensorShape{}, std::nullopt},
                                 {"s", DType::kString, TensorShape{}, std::nullopt}});
  ParseOptions parallel;
  parallel.parallel = true;
  ParseResult serial_result, parallel_result;
  ASSERT_TRUE(ParseExample(Views(records), *spec, &serial_result).ok());
  ASSERT_TRUE(ParseExample(Views(records), *spec, &parallel_result, parallel).ok());
  EXPECT_TRUE(serial_result.dense[0].ContentEquals(parallel_result.dense[0]));
  EXPECT_TRUE(serial_result.dense[1].ContentEquals(parallel_result.dense[1]));
  EXPECT_EQ(parallel_result.dense[1].string(999), "999");
  records[700] = ExampleBuilder().Serialize();
  records[900] = ExampleBuilder().Serialize();
  absl::Status s = ParseExample(Views(records), *spec, &parallel_result, parallel);
  EXPECT_THAT(s.message(), HasSubstr("record 700"));
}

TEST(ParseSequenceExampleTest, ContextAndPaddedFeatureLists) {
  std::vector<std::string> records;
  for (int i = 0; i < 2; ++i) {
    SequenceExampleBuilder b;
    b.context().AddInt64s("int_feature", {i});
    std::vector<std::string> steps;
    for (int s = 0; s <= i; ++s) {
      steps.push_back(EncodeInt64Feature(std::vector<int64_t>{10 * i + s, -1}));
    }
    b.AddFeatureList("int_feature", steps);  // same name as in the context
    records.push_back(b.Serialize());
  }
  auto spec = SequenceParseSpec::Create(
      {{"int_feature", DType::kInt64, TensorShape{}, std::nullopt}}, {},
      {{"int_feature", DType::kInt64, TensorShape{2}, false, Tensor::Scalar<int64_t>(7)},
       {"absent", DType::kFloat32, TensorShape{}, true, std::nullopt}});
  ASSERT_TRUE(spec.ok()) << spec.status();
  SequenceParseResult result;
  ASSERT_TRUE(ParseSequenceExample(Views(records), *spec, &result).ok());
  EXPECT_THAT(Values<int64_t>(result.context.dense[0]), ElementsAre(0, 1));
  EXPECT_EQ(result.sequence_dense[0].shape(), (TensorShape{2, 2, 2}));
  EXPECT_THAT(Values<int64_t>(result.sequence_dense[0]),
              ElementsAre(0, -1, 7, 7, 10, -1, 11, -1));
  EXPECT_THAT(Values<int64_t>(result.sequence_lengths[0]), ElementsAre(1, 2));
  EXPECT_EQ(result.sequence_dense[1].shape(), (TensorShape{2, 0}));
}

TEST(ParseSequenceExampleTest, MissingListAndBadStepAreInvalidArgument) {
  SequenceExampleBuilder b;
  b.AddFeatureList("s", {EncodeBytesFeature(std::vector<std::string_view>{"x"}),
                         EncodeBytesFeature({})});
  std::vector<std::string> records = {b.Serialize()};
  SequenceParseResult result;
  auto missing = SequenceParseSpec::Create({}, {}, {{"t", DType::kString, TensorShape{}, false,
                                                     std::nullopt}});
  absl::Status s = ParseSequenceExample(Views(records), *missing, &result);
  EXPECT_THAT(s.message(), HasSubstr("record 0: feature list 't' is required"));
  auto empty_step = SequenceParseSpec::Create({}, {}, {{"s", DType::kString, TensorShape{},
                                                        false, std::nullopt}});
  s = ParseSequenceExample(Views(records), *empty_step, &result);
  EXPECT_THAT(s.message(), HasSubstr("step 1 has 0 values"));
}

}  // namespace
}  // namespace sluice
