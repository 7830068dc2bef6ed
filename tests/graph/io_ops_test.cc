#include "graph/ops/io_ops.h"

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "coordinator/coordinator.h"
#include "graph/ops/ops.h"
#include "graph/session.h"
#include "graph/variables.h"
#include "readers/example_builder.h"
#include "readers/record_writer.h"

namespace sluice {
namespace {

class IoOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sluice_graph_io_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // A file of `n` Examples with labels first .. first + n - 1.
  std::string WriteFile(const std::string& name, int first, int n, Compression c) {
    const std::string path = (std::filesystem::path(dir_) / name).string();
    auto w = RecordWriter::Open(path, RecordWriterOptions{.compression = c});
    EXPECT_TRUE(w.ok()) << w.status();
    for (int i = first; i < first + n; ++i) {
      ExampleBuilder b;
      b.AddInt64s("label", {int64_t{i}});
      EXPECT_TRUE((*w)->Write(b.Serialize()).ok());
    }
    EXPECT_TRUE((*w)->Close().ok());
    return path;
  }
  std::string dir_;
};

// files -> string_input_producer(num_epochs=2) -> TFRecordReader ->
// parse_single_example -> batch, drained to OutOfRange.
TEST_F(IoOpsTest, ReaderPipelineInTheGraphReadsEveryRecordOfEveryEpoch) {
  const std::string a = WriteFile("a.tfrecord", 0, 5, Compression::kNone);
  const std::string b = WriteFile("b.tfrecord", 5, 5, Compression::kNone);
  Graph g;
  Scope root = Scope::Root(&g);
  Output files = ops::StringInputProducer(
      root, Tensor::FromStrings({a, b}, {2}), {.num_epochs = 2, .seed = 3});
  Output reader = ops::TFRecordReader(root);
  ops::ReaderOutputs rec = ops::ReaderRead(root, reader, files);
  std::vector<Output> label = ops::ParseSingleExample(
      root, rec.value, {FixedLenFeature{"label", DType::kInt64, {}, std::nullopt}});
  std::vector<Output> batch =
      ops::Batch(root, {label[0]}, 3, 10, {.allow_smaller_final_batch = true});
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(LocalVariables(g).size(), 1u);
  EXPECT_EQ(LocalVariables(g)[0].name(), "input_producer/limit_epochs/epochs:0");

  Session s(&g);
  ASSERT_TRUE(s.Run({}, {}, {GlobalVariablesInitializer(root), LocalVariablesInitializer(root)},
                    nullptr).ok());
  Coordinator coord;
  ASSERT_TRUE(StartQueueRunners(&s, &coord).ok());
  std::vector<int> count(10, 0);
  int total = 0;
  while (true) {
    std::vector<Tensor> out;
    absl::Status st = s.Run(RunOptions::Timeout(absl::Seconds(30)), {}, {batch[0]}, {}, &out);
    if (absl::IsOutOfRange(st)) break;
    ASSERT_TRUE(st.ok()) << st;
    for (int64_t i = 0; i < out[0].NumElements(); ++i) {
      ++count[out[0].data<int64_t>()[i]];
      ++total;
    }
  }
  EXPECT_EQ(total, 20);
  EXPECT_THAT(count, ::testing::Each(2));
  EXPECT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
}

TEST_F(IoOpsTest, ReadUpToFromGzipFiles) {
  const std::string a = WriteFile("a.tfrecord.gz", 0, 7, Compression::kGzip);
  Graph g;
  Scope root = Scope::Root(&g);
  Output files = ops::StringInputProducer(root, Tensor::FromStrings({a}, {1}),
                                          {.num_epochs = 1, .shuffle = false});
  Output reader = ops::TFRecordReader(root, {.compression = Compression::kGzip});
  ops::ReaderOutputs rec = ops::ReaderReadUpTo(root, reader, files, 4);
  ASSERT_TRUE(root.ok()) << root.status();
  Session s(&g);
  ASSERT_TRUE(s.Run({}, {}, {LocalVariablesInitializer(root)}, nullptr).ok());
  Coordinator coord;
  ASSERT_TRUE(StartQueueRunners(&s, &coord).ok());
  std::vector<int64_t> sizes;
  while (true) {
    std::vector<Tensor> out;
    absl::Status st = s.Run(RunOptions::Timeout(absl::Seconds(30)), {}, {rec.key, rec.value}, {}, &out);
    if (absl::IsOutOfRange(st)) break;
    ASSERT_TRUE(st.ok()) << st;
    sizes.push_back(out[1].NumElements());
    EXPECT_THAT(std::string(out[0].string(0)), ::testing::HasSubstr("a.tfrecord.gz:"));
  }
  EXPECT_THAT(sizes, ::testing::ElementsAre(4, 3));
  EXPECT_TRUE(coord.RequestStop().ok());
  EXPECT_TRUE(coord.Join(absl::Seconds(30)).ok());
}

}  // namespace
}  // namespace sluice
