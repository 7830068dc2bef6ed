// The Saver restores checkpoints TensorFlow wrote (TF Serving's
// half_plus_two, tests/testdata/tensorflow-serving) by variable name, or
// through a name map; a dtype or shape mismatch names the variable.

#include <cstdlib>
#include <string>

#include "gmock/gmock.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/saver.h"
#include "graph/session.h"
#include "graph/variables.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

std::string HalfPlusTwoCheckpoint() {
  const char* root = std::getenv("SLUICE_TESTDATA");
  return std::string(root == nullptr ? "tests/testdata" : root) +
         "/tensorflow-serving/saved_model_half_plus_two_cpu/00000123/variables/variables";
}

TEST(SaverTfCheckpointTest, RestoresTensorFlowsVariablesByNameAndComputesHalfPlusTwo) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable a = NewVariable(root, 0.0f, {.name = "a"});
  Variable b = NewVariable(root, 0.0f, {.name = "b"});
  Output x = ops::Placeholder(root.WithOpName("x"), DType::kFloat32);
  Output y = ops::Add(root, ops::Mul(root, a, x), b);
  ASSERT_TRUE(root.ok()) << root.status();
  Session sess(&g);
  Saver saver(GlobalVariables(g));
  ASSERT_TRUE(saver.Restore(&sess, HalfPlusTwoCheckpoint()).ok());
  std::vector<Tensor> out;
  ASSERT_TRUE(sess.Run({{x, Tensor::FromVector<float>({1.f, 2.f, 5.f}, {3})}}, {y}, &out).ok());
  EXPECT_THAT(std::vector<float>(out[0].data<float>(), out[0].data<float>() + 3),
              ::testing::ElementsAre(2.5f, 3.f, 4.5f));
}

TEST(SaverTfCheckpointTest, NameMapRestoresRenamedVariables) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable slope = NewVariable(root, 0.0f, {.name = "slope"});
  Session sess(&g);
  Saver saver(std::map<std::string, Variable, std::less<>>{{"c", slope}});
  ASSERT_TRUE(saver.Restore(&sess, HalfPlusTwoCheckpoint()).ok());
  auto v = sess.ReadVariable(slope);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->scalar<float>(), 3.f);
}

TEST(SaverTfCheckpointTest, DTypeOrShapeMismatchNamesTheVariable) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable a = NewVariable(root, int64_t{0}, {.name = "a"});
  Variable b = NewVariable(root, Tensor::FromVector<float>({0.f, 0.f}, {2}), {.name = "b"});
  Session sess(&g);
  absl::Status s = Saver(std::vector<Variable>{a}).Restore(&sess, HalfPlusTwoCheckpoint());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("tensor a "));
  EXPECT_THAT(s.message(), HasSubstr("dtype float"));
  s = Saver(std::vector<Variable>{b}).Restore(&sess, HalfPlusTwoCheckpoint());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("tensor b "));
}

}  // namespace
}  // namespace sluice
