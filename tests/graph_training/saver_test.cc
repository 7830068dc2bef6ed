#include "graph/saver.h"

#include <filesystem>

#include "gmock/gmock.h"
#include "graph/checkpoint.h"
#include "graph/checkpoint_state.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/ops/state_ops.h"
#include "graph/session.h"
#include "graph/variables.h"
#include "gtest/gtest.h"
#include "test_tmpdir.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

float RunScalar(Session* s, const Output& o, const FeedList& feeds = {}) {
  std::vector<Tensor> out;
  absl::Status st = s->Run(feeds, {o}, &out);
  EXPECT_TRUE(st.ok()) << st;
  return st.ok() ? out[0].scalar<float>() : NAN;
}

// The seed's model_save / model_load: (w1 + w2) * bias with bias = 2 is
// 24 for {4, 8}; a new session restored from latest_checkpoint gives 60
// for {13, 17}.
TEST(SaverTest, SeedSaveThenRestoreInANewSession) {
  testing::TempDir dir;
  const std::string model_dir = dir.Join("model_dir");
  auto build = [](Graph* g, Output* w1, Output* w2, Variable* b1) {
    Scope root = Scope::Root(g);
    *w1 = ops::Placeholder(root.WithOpName("w1"), DType::kFloat32);
    *w2 = ops::Placeholder(root.WithOpName("w2"), DType::kFloat32);
    *b1 = NewVariable(root, 2.0f, {.name = "bias"});
    Output w3 = ops::Add(root, *w1, *w2);
    Output w4 = ops::Mul(root.WithOpName("op_to_restore"), w3, *b1);
    EXPECT_TRUE(root.ok()) << root.status();
    return w4;
  };
  {
    Graph g;
    Output w1, w2;
    Variable b1;
    Output w4 = build(&g, &w1, &w2, &b1);
    Session sess(&g);
    ASSERT_TRUE(sess.Run({}, {}, {GlobalVariablesInitializer(Scope::Root(&g))}, nullptr).ok());
    EXPECT_EQ(RunScalar(&sess, w4, {{w1, Tensor::Scalar<float>(4)}, {w2, Tensor::Scalar<float>(8)}}), 24.f);
    Saver saver(GlobalVariables(g));
    auto path = saver.Save(&sess, model_dir + "/my_test_model");
    ASSERT_TRUE(path.ok()) << path.status();
    EXPECT_EQ(*path, model_dir + "/my_test_model");
  }
  Graph g;
  Output w1, w2;
  Variable b1;
  Output w4 = build(&g, &w1, &w2, &b1);
  Session sess(&g);
  Saver saver(GlobalVariables(g));
  auto latest = LatestCheckpoint(model_dir);
  ASSERT_TRUE(latest.has_value());
  ASSERT_TRUE(saver.Restore(&sess, *latest).ok());
  FeedList feeds = {{w1, Tensor::Scalar<float>(13)}, {w2, Tensor::Scalar<float>(17)}};
  EXPECT_EQ(RunScalar(&sess, w4, feeds), 60.f);
  Output op_mul = ops::Mul(Scope::Root(&g), w4, 2.0f);
  EXPECT_EQ(RunScalar(&sess, op_mul, feeds), 120.f);
}

// The seed's resume program: a = a + 1 each step, saved with global_step;
// a restart restores the newest checkpoint and carries on from there.
TEST(SaverTest, SeedResumeFromLatestCheckpointContinuesCounting) {
  testing::TempDir dir;
  const std::string model_dir = dir.Join("test_model");
  auto run_process = [&](int steps) -> float {
    Graph g;
    Scope root = Scope::Root(&g);
    Variable a = NewVariable(root, 1.0f, {.name = "x"});
    Output sum_add = ops::Assign(root, a, ops::Add(root, a, 1.0f));
    Saver saver(GlobalVariables(g));
    Session sess(&g);
    EXPECT_TRUE(sess.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
    auto ckpt = GetCheckpointState(model_dir);
    EXPECT_TRUE(ckpt.ok());
    if (ckpt.ok() && ckpt->has_value()) {
      EXPECT_TRUE(saver.Restore(&sess, (*ckpt)->model_checkpoint_path).ok());
    }
    for (int i = 0; i < steps; ++i) {
      EXPECT_TRUE(sess.Run({}, {sum_add}, nullptr).ok());
      EXPECT_TRUE(saver.Save(&sess, model_dir + "/model.ckpt", i).ok());
    }
    return RunScalar(&sess, a);
  };
  EXPECT_EQ(run_process(10), 11.f);
  // Default max_to_keep = 5: steps 5..9 remain.
  auto state = GetCheckpointState(model_dir);
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ((*state)->all_model_checkpoint_paths.size(), 5u);
  EXPECT_EQ((*state)->model_checkpoint_path, model_dir + "/model.ckpt-9");
  EXPECT_FALSE(CheckpointExists(model_dir + "/model.ckpt-4"));
  EXPECT_EQ(run_process(3), 14.f);  // resumed from 11
}

// Checklist items 119 and 120 through the Saver.
TEST(SaverTest, MaxToKeepAndLatestCheckpoint) {
  testing::TempDir dir;
  Graph g;
  Scope root = Scope::Root(&g);
  Variable v = NewVariable(root, 0.0f, {.name = "v"});
  Output inc = ops::AssignAdd(root, v, 1.0f);
  Session sess(&g);
  ASSERT_TRUE(sess.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  for (int keep : {2, 0}) {
    const std::string d = dir.Join("keep" + std::to_string(keep));
    Saver saver(GlobalVariables(g), {.max_to_keep = keep});
    for (int step = 1; step <= 3; ++step) {
      ASSERT_TRUE(sess.Run({}, {inc}, nullptr).ok());
      ASSERT_TRUE(saver.Save(&sess, d + "/m", step).ok());
    }
    auto state = GetCheckpointState(d);
    ASSERT_TRUE(state.ok() && state->has_value());
    EXPECT_EQ((*state)->model_checkpoint_path, d + "/m-3");
    if (keep == 2) {
      EXPECT_THAT((*state)->all_model_checkpoint_paths, ElementsAre(d + "/m-2", d + "/m-3"));
      EXPECT_FALSE(CheckpointExists(d + "/m-1"));
    } else {
      EXPECT_THAT((*state)->all_model_checkpoint_paths, ElementsAre(d + "/m-3"));
      EXPECT_TRUE(CheckpointExists(d + "/m-1"));
    }
    EXPECT_TRUE(CheckpointExists(d + "/m-2"));
    EXPECT_EQ(LatestCheckpoint(d), d + "/m-3");
    std::filesystem::remove(CheckpointIndexPath(d + "/m-3"));
    EXPECT_EQ(LatestCheckpoint(d), std::nullopt);  // item 120: referenced file absent
  }
}

TEST(SaverTest, SubsetAndNameMappingRestoreIntoRenamedVariables) {
  testing::TempDir dir;
  const std::string prefix = dir.Join("ckpt");
  {
    Graph g;
    Scope root = Scope::Root(&g);
    Variable w1 = NewVariable(root, Tensor::FromVector<float>({1, 2}, {2}), {.name = "w1"});
    [[maybe_unused]] Variable w2 =
        NewVariable(root, Tensor::FromVector<float>({3, 4, 5}, {3}), {.name = "w2"});
    Session sess(&g);
    ASSERT_TRUE(sess.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
    Saver saver(std::vector<Variable>{w1});  // w2 not saved
    ASSERT_TRUE(saver.Save(&sess, prefix).ok());
    auto reader = CheckpointReader::Open(prefix);
    ASSERT_TRUE(reader.ok());
    ASSERT_EQ((*reader)->tensors().size(), 1u);
    EXPECT_EQ((*reader)->tensors()[0].name, "w1");
  }
  Graph g;
  Scope root = Scope::Root(&g);
  Variable renamed = NewVariable(root, Tensor::FromVector<float>({0, 0}, {2}), {.name = "layer/weights"});
  Session sess(&g);
  Saver saver(std::map<std::string, Variable, std::less<>>{{"w1", renamed}});
  ASSERT_TRUE(saver.Restore(&sess, prefix).ok());  // also initialises it
  auto t = sess.ReadVariable(renamed);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->ContentEquals(Tensor::FromVector<float>({1, 2}, {2})));
}

TEST(SaverTest, FailedRestoreLeavesEveryVariableUntouched) {
  testing::TempDir dir;
  const std::string prefix = dir.Join("ckpt");
  Graph g;
  Scope root = Scope::Root(&g);
  Variable a = NewVariable(root, Tensor::FromVector<float>({1, 2}, {2}), {.name = "a"});
  [[maybe_unused]] Variable b = NewVariable(root, 7.0f, {.name = "b"});
  Session sess(&g);
  ASSERT_TRUE(sess.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  ASSERT_TRUE(Saver(std::vector<Variable>{a}).Save(&sess, prefix).ok());
  ASSERT_TRUE(sess.AssignVariable(a, Tensor::FromVector<float>({9, 9}, {2})).ok());

  // b is not in the checkpoint: nothing is assigned, a keeps {9, 9}.
  absl::Status s = Saver(GlobalVariables(g)).Restore(&sess, prefix);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("Key b not found in checkpoint"));
  EXPECT_TRUE(sess.ReadVariable(a)->ContentEquals(Tensor::FromVector<float>({9, 9}, {2})));

  // Shape mismatch through a name map.
  Variable c = NewVariable(root, Tensor::FromVector<float>({0, 0, 0}, {3}), {.name = "c"});
  s = Saver(std::map<std::string, Variable, std::less<>>{{"a", c}}).Restore(&sess, prefix);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("shapes"));

  EXPECT_EQ(Saver(GlobalVariables(g)).Restore(&sess, dir.Join("missing")).code(), absl::StatusCode::kNotFound);
}

TEST(SaverTest, SaveErrors) {
  testing::TempDir dir;
  Graph g;
  Scope root = Scope::Root(&g);
  Variable a = NewVariable(root, 1.0f, {.name = "a"});
  Session sess(&g);
  // Uninitialised variable.
  EXPECT_EQ(Saver(GlobalVariables(g)).Save(&sess, dir.Join("m")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(sess.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  // Two variables under one name.
  EXPECT_EQ(Saver(std::vector<Variable>{a, a}).Save(&sess, dir.Join("m")).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Prefix equal to the state file.
  EXPECT_EQ(Saver(GlobalVariables(g)).Save(&sess, dir.Join("checkpoint")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Global step from an int64 variable.
  Variable step = NewVariable(root, int64_t{42}, {.name = "global_step", .trainable = false});
  ASSERT_TRUE(sess.Run({}, {}, {step.initializer()}, nullptr).ok());
  auto p = Saver(GlobalVariables(g)).Save(&sess, dir.Join("m"), step);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p, dir.Join("m-42"));
}

}  // namespace
}  // namespace sluice
