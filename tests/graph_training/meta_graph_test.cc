// MetaGraphDef and SavedModel files: the course's restore-and-continue
// program (save writes model.meta; a new graph is rebuilt from it alone,
// restored, fed and fetched by name), and TensorFlow Serving's
// half_plus_two SavedModel (tests/testdata/tensorflow-serving) loaded with
// its variables and run on a fed x.

#include "graph/meta_graph.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "graph/checkpoint_state.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/saver.h"
#include "graph/session.h"
#include "graph/tf_format/proto/meta_graph.pb.h"
#include "graph/variables.h"
#include "gtest/gtest.h"
#include "test_tmpdir.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ServingModel(const std::string& name) {
  const char* root = std::getenv("SLUICE_TESTDATA");
  return std::string(root == nullptr ? "tests/testdata" : root) + "/tensorflow-serving/" + name + "/00000123";
}

std::vector<float> RunFloats(Session* s, const Output& o, const FeedList& feeds) {
  std::vector<Tensor> out;
  absl::Status st = s->Run(feeds, {o}, &out);
  EXPECT_TRUE(st.ok()) << st;
  if (!st.ok()) return {};
  return std::vector<float>(out[0].data<float>(), out[0].data<float>() + out[0].NumElements());
}

// model_save(): (w1 + w2) * bias, bias = 2: 24 for {4, 8}.
// model_load(): import_meta_graph, restore latest_checkpoint, fetch
// "op_to_restore:0" fed w1 = 13, w2 = 17: 60; then a new op on top: 120.
TEST(MetaGraphTest, CourseRestoreAndContinueProgram) {
  testing::TempDir dir;
  const std::string model_dir = dir.Join("model_dir");
  {
    Graph g;
    Scope root = Scope::Root(&g);
    Output w1 = ops::Placeholder(root.WithOpName("w1"), DType::kFloat32);
    Output w2 = ops::Placeholder(root.WithOpName("w2"), DType::kFloat32);
    Variable b1 = NewVariable(root, 2.0f, {.name = "bias"});
    Output w3 = ops::Add(root, w1, w2);
    Output w4 = ops::Mul(root.WithOpName("op_to_restore"), w3, b1);
    ASSERT_TRUE(root.ok()) << root.status();
    Session sess(&g);
    ASSERT_TRUE(sess.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
    EXPECT_THAT(RunFloats(&sess, w4, {{w1, Tensor::Scalar<float>(4)}, {w2, Tensor::Scalar<float>(8)}}),
                ElementsAre(24.f));
    // Changed after initialisation, so only the checkpoint knows 3.
    ASSERT_TRUE(sess.AssignVariable(b1, Tensor::Scalar<float>(3.f)).ok());
    Saver saver(GlobalVariables(g));
    auto path = saver.Save(&sess, model_dir + "/my_test_model");
    ASSERT_TRUE(path.ok()) << path.status();
    EXPECT_TRUE(std::filesystem::exists(model_dir + "/my_test_model.meta"));
  }
  Graph g;
  ASSERT_TRUE(ImportMetaGraph(model_dir + "/my_test_model.meta", &g).ok());
  Session sess(&g);
  Saver saver(GlobalVariables(g));
  auto latest = LatestCheckpoint(model_dir);
  ASSERT_TRUE(latest.has_value());
  ASSERT_TRUE(saver.Restore(&sess, *latest).ok());
  auto w1 = g.GetTensorByName("w1:0");
  auto w2 = g.GetTensorByName("w2:0");
  auto op = g.GetTensorByName("op_to_restore:0");
  ASSERT_TRUE(w1.ok() && w2.ok() && op.ok());
  FeedList feeds = {{*w1, Tensor::Scalar<float>(13)}, {*w2, Tensor::Scalar<float>(17)}};
  EXPECT_THAT(RunFloats(&sess, *op, feeds), ElementsAre(90.f));
  Scope root = Scope::Root(&g);
  Output op_mul = ops::Mul(root, *op, 2.0f);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_THAT(RunFloats(&sess, op_mul, feeds), ElementsAre(180.f));
}

TEST(MetaGraphTest, MetaGraphDefHoldsGraphSaverDefAndCollections) {
  testing::TempDir dir;
  Graph g;
  Scope root = Scope::Root(&g);
  Variable w = NewVariable(root, 1.0f, {.name = "w"});
  Variable step = NewVariable(root, int64_t{0}, {.name = "global_step", .trainable = false});
  Output loss = ops::Square(root.WithOpName("loss"), w);
  Operation train = ops::NoOp(root.WithOpName("train"));
  g.AddToCollection(kTrainOpKey, train);
  ASSERT_TRUE(root.ok()) << root.status();
  Session sess(&g);
  ASSERT_TRUE(sess.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  Saver saver(GlobalVariables(g), {.max_to_keep = 3});
  auto path = saver.Save(&sess, dir.Join("m"), 7);
  ASSERT_TRUE(path.ok());
  std::ifstream in(*path + ".meta", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  tensorflow::MetaGraphDef meta;
  ASSERT_TRUE(meta.ParseFromString(bytes));
  EXPECT_EQ(meta.graph_def().node_size(), g.num_nodes());
  EXPECT_EQ(meta.saver_def().max_to_keep(), 3);
  EXPECT_EQ(meta.saver_def().version(), tensorflow::SaverDef::V2);
  ASSERT_EQ(meta.collection_def().at("variables").bytes_list().value_size(), 2);
  tensorflow::VariableDef vd;
  ASSERT_TRUE(vd.ParseFromString(meta.collection_def().at("variables").bytes_list().value(0)));
  EXPECT_EQ(vd.variable_name(), "w:0");
  EXPECT_EQ(vd.initializer_name(), "w/Assign");
  EXPECT_EQ(meta.collection_def().at("trainable_variables").bytes_list().value_size(), 1);
  EXPECT_THAT(meta.collection_def().at("train_op").node_list().value(), ElementsAre("train"));

  Graph g2;
  ASSERT_TRUE(ImportMetaGraphDef(bytes, &g2).ok());
  EXPECT_EQ(GlobalVariables(g2).size(), 2u);
  ASSERT_EQ(TrainableVariables(g2).size(), 1u);
  EXPECT_EQ(TrainableVariables(g2)[0].op_name(), "w");
  ASSERT_EQ(g2.GetCollection(kTrainOpKey).size(), 1u);
  // write_meta_graph=false writes none.
  auto no_meta = saver.Save(&sess, dir.Join("n"), std::nullopt, /*write_meta_graph=*/false);
  ASSERT_TRUE(no_meta.ok());
  EXPECT_FALSE(std::filesystem::exists(*no_meta + ".meta"));
}

TEST(MetaGraphTest, HalfPlusTwoSavedModelGivesTensorFlowsAnswers) {
  const std::string dir = ServingModel("saved_model_half_plus_two_cpu");
  Graph g;
  // Fetch y and y2 with x fed: the ParseExample input and the SavedModel's
  // own save/restore ops are pruned.
  ImportGraphDefOptions options;
  options.keep = {"y", "y2"};
  options.as_placeholders = {"x"};
  absl::Status s = ImportSavedModel(dir, &g, options);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(g.FindNode("save/RestoreV2"), nullptr);
  EXPECT_EQ(g.FindNode("ParseExample/ParseExample"), nullptr);
  Session sess(&g);
  Saver saver(GlobalVariables(g));
  ASSERT_TRUE(saver.Restore(&sess, SavedModelVariablesPrefix(dir)).ok());
  // x is [?, 1] in the graph (its _output_shapes), as TensorFlow feeds it.
  FeedList feeds = {{*g.GetTensorByName("x:0"), Tensor::FromVector<float>({1.f, 2.f, 5.f}, {3, 1})}};
  EXPECT_THAT(RunFloats(&sess, *g.GetTensorByName("y:0"), feeds), ElementsAre(2.5f, 3.f, 4.5f));
  EXPECT_THAT(RunFloats(&sess, *g.GetTensorByName("y2:0"), feeds), ElementsAre(3.5f, 4.f, 5.5f));
}

TEST(MetaGraphTest, SavedModelsOwnRestoreOpsAreUnimplementedNamingOpAndNode) {
  Graph g;
  ImportGraphDefOptions options;
  options.keep = {"save/restore_all"};
  absl::Status s = ImportSavedModel(ServingModel("saved_model_half_plus_two_cpu"), &g, options);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << s;
  EXPECT_THAT(s.message(), HasSubstr("is not supported by sluice"));
  EXPECT_THAT(s.message(), HasSubstr("(node 'save/"));
  Graph missing;
  EXPECT_EQ(ImportSavedModel("/nonexistent/model", &missing).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace sluice
