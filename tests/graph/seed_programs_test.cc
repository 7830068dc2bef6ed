// The TensorFlow 1.x programs of the course text (seed document,
// /work/shared/seed/000_f266c69586c3b720.txt) rebuilt with the C++ API,
// checked against the values and names the course prints.

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "graph/ops/ops.h"
#include "graph/scope.h"
#include "graph/session.h"
#include "graph/variables.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::HasSubstr;

std::vector<float> Floats(const Tensor& t) {
  return std::vector<float>(t.data<float>(), t.data<float>() + t.NumElements());
}

// a = constant([3,3], shape [1,2]); b = constant([2,2], shape [2,1]);
// matmul(a, b) = [[12]].
TEST(SeedProgramsTest, MatmulOfConstants) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output a = ops::Const(root, {3, 3}, DType::kFloat32, {1, 2});
  Output b = ops::Const(root, {2, 2}, DType::kFloat32, {2, 1});
  Output result = ops::MatMul(root, a, b);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(result.shape(), TensorShape({1, 1}));
  Session s(&g);
  std::vector<Tensor> out;
  ASSERT_TRUE(s.Run({}, {result}, &out).ok());
  EXPECT_EQ(out[0].shape(), TensorShape({1, 1}));
  EXPECT_EQ(out[0].data<float>()[0], 12.0f);
}

// Two graphs side by side: c + d in graph1 ([9, 10]), its result fed to
// e + f in graph2 ([14, 16]); a node of the default graph cannot join e.
TEST(SeedProgramsTest, GraphsKeptApart) {
  Graph default_graph("default");
  Scope root = Scope::Root(&default_graph);
  Output a = ops::Const(root, {3, 3}, DType::kFloat32, {1, 2});

  Graph graph1("graph1");
  Scope s1 = Scope::Root(&graph1);
  Output c = ops::Const(s1, {1, 2}, DType::kFloat32, {1, 2});
  Variable d = NewVariable(s1, {{8, 8}}, {.dtype = DType::kFloat32, .shape = TensorShape{1, 2}});
  Output c_d = ops::Add(s1, c, d);
  ASSERT_TRUE(s1.ok()) << s1.status();

  Graph graph2("graph2");
  Scope s2 = Scope::Root(&graph2);
  Output e = ops::Const(s2, {5, 6}, DType::kFloat32, {1, 2});
  Output f = ops::Placeholder(s2, DType::kFloat32);
  Output e_f = ops::Add(s2, e, f);
  ASSERT_TRUE(s2.ok()) << s2.status();

  EXPECT_EQ(a.graph(), &default_graph);
  EXPECT_EQ(e.graph(), &graph2);
  EXPECT_NE(a.graph(), e.graph());

  Tensor res;
  {
    Session sess1(&graph1);
    ASSERT_TRUE(sess1.Run({}, {}, {GlobalVariablesInitializer(s1)}, nullptr).ok());
    std::vector<Tensor> out;
    ASSERT_TRUE(sess1.Run({}, {d, c_d}, &out).ok());
    EXPECT_THAT(Floats(out[0]), ElementsAre(8, 8));
    EXPECT_THAT(Floats(out[1]), ElementsAre(9, 10));
    res = out[1];
  }
  Session sess2(&graph2);
  std::vector<Tensor> out;
  ASSERT_TRUE(sess2.Run({{f, res}}, {e_f}, &out).ok());
  EXPECT_THAT(Floats(out[0]), ElementsAre(14, 16));

  // f = tf.add(a, e): the course's "error code".
  Scope s3 = Scope::Root(&default_graph);
  Output bad = ops::Add(s3, a, e);
  EXPECT_FALSE(bad.valid());
  EXPECT_EQ(s3.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s3.status().message()), HasSubstr("'graph2'"));
  EXPECT_THAT(std::string(s3.status().message()), HasSubstr("'default'"));
}

// y1 = 0.1 x + 0.2; y2 = 0.1 y1 + 0.2; y3 = 0.1 * 0.2 + 1, with x = 10:
// y2 alone, then [y1, y2, y3] in one run.
TEST(SeedProgramsTest, FeedAndSeveralFetches) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output w = ops::Const(root, 0.1f);
  Output b = ops::Const(root, 0.2f);
  Output x = ops::Placeholder(root, DType::kFloat32);
  Output y1 = ops::Add(root, ops::Multiply(root, w, x), b);
  Output y2 = ops::Add(root, ops::Multiply(root, w, y1), b);
  Output y3 = ops::Add(root, ops::Multiply(root, w, b), 1);
  ASSERT_TRUE(root.ok()) << root.status();
  Session s(&g);
  std::vector<Tensor> out;
  ASSERT_TRUE(s.Run({{x, Tensor::Scalar<float>(10)}}, {y2}, &out).ok());
  EXPECT_THAT(out[0].scalar<float>(), FloatNear(0.32f, 1e-6));
  ASSERT_TRUE(s.Run({{x, Tensor::Scalar<float>(10)}}, {y1, y2, y3}, &out).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_THAT(out[0].scalar<float>(), FloatNear(1.2f, 1e-6));
  EXPECT_THAT(out[1].scalar<float>(), FloatNear(0.32f, 1e-6));
  EXPECT_THAT(out[2].scalar<float>(), FloatNear(1.02f, 1e-6));
  // y3 does not depend on x: it runs without the feed.
  ASSERT_TRUE(s.Run({}, {y3}, &out).ok());
  // y2 does: the error names the placeholder.
  absl::Status st = s.Run({}, {y2}, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr("'Placeholder'"));
}

// a = Variable(5.0); [a + 3, a * 2, 3 / 2, 2 - 3] with soft placement and
// the placement log on.
TEST(SeedProgramsTest, SessionConfigWithPlacementLog) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable a = NewVariable(root, 5.0f);
  Output b = ops::Const(root, 2.0f);
  Output c = ops::Const(root, 3.0f);
  Output ad = ops::Add(root, a, c);
  Output mul = ops::Multiply(root, a, b);
  Output div = ops::Divide(root, c, b);
  Output sub = ops::Subtract(root, b, c);
  ASSERT_TRUE(root.ok()) << root.status();
  std::vector<std::string> log;
  Session s(&g, SessionOptions{.allow_soft_placement = true,
                               .log_device_placement = true,
                               .log_sink = [&](std::string_view l) { log.emplace_back(l); }});
  ASSERT_TRUE(s.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  std::vector<Tensor> out;
  ASSERT_TRUE(s.Run({}, {ad, mul, div, sub}, &out).ok());
  EXPECT_EQ(out[0].scalar<float>(), 8.0f);
  EXPECT_EQ(out[1].scalar<float>(), 10.0f);
  EXPECT_EQ(out[2].scalar<float>(), 1.5f);
  EXPECT_EQ(out[3].scalar<float>(), -1.0f);
  EXPECT_THAT(log, ::testing::Contains(
                       "Variable: (VariableV2): /job:localhost/replica:0/task:0/device:CPU:0"));
  EXPECT_THAT(log, ::testing::Contains(
                       "truediv: (RealDiv): /job:localhost/replica:0/task:0/device:CPU:0"));
}

// a = Variable([[3, 5]]); a.assign(a + 1) twice through two assign ops.
TEST(SeedProgramsTest, VariableUpdatedWithAssign) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable a = NewVariable(root, {{3.0f, 5.0f}}, {.dtype = DType::kFloat32, .shape = TensorShape{1, 2}});
  Output b = ops::Const(root, {{2.0f, 8.0f}});
  Output mul = ops::Multiply(root, a, b);
  Output ad = ops::Add(root, a, b);
  Output a_op1 = ops::Assign(root, a, ops::Add(root, a, 1));
  Output a_op2 = ops::Assign(root, a, ops::Add(root, a, 1));
  ASSERT_TRUE(root.ok()) << root.status();
  Session s(&g);
  ASSERT_TRUE(s.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  std::vector<Tensor> out;
  ASSERT_TRUE(s.Run({}, {mul, ad}, &out).ok());
  EXPECT_THAT(Floats(out[0]), ElementsAre(6, 40));
  EXPECT_THAT(Floats(out[1]), ElementsAre(5, 13));
  ASSERT_TRUE(s.Run({}, {a_op1}, &out).ok());
  EXPECT_THAT(Floats(out[0]), ElementsAre(4, 6));
  ASSERT_TRUE(s.Run({}, {a}, &out).ok());
  EXPECT_THAT(Floats(out[0]), ElementsAre(4, 6));
  ASSERT_TRUE(s.Run({}, {a_op2}, &out).ok());
  EXPECT_THAT(Floats(out[0]), ElementsAre(5, 7));
  ASSERT_TRUE(s.Run({}, {a}, &out).ok());
  EXPECT_THAT(Floats(out[0]), ElementsAre(5, 7));
}

// sum = Variable(1); op_sum = assign(sum, sum * x); with
// control_dependencies([op_sum]): print('sum:', sum). Running [print, sum]
// for x = 1..5 prints the running factorial and ends with 5! = 120.
TEST(SeedProgramsTest, FactorialWithControlDependencyAndPrint) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable sum = NewVariable(root, 1, {.dtype = DType::kInt32});
  Output x = ops::Placeholder(root, DType::kInt32);
  Output tmp_sum = ops::Multiply(root, sum, x);
  Output op_sum = ops::Assign(root, sum, tmp_sum);
  Operation sum1 = ops::Print(root.WithControlDependencies(op_sum), {"sum:", sum});
  ASSERT_TRUE(root.ok()) << root.status();
  std::vector<std::string> printed;
  Session s(&g, SessionOptions{.print_sink = [&](std::string_view l) { printed.emplace_back(l); }});
  ASSERT_TRUE(s.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  int32_t result = 0;
  for (int i = 1; i <= 5; ++i) {
    std::vector<Tensor> out;
    ASSERT_TRUE(s.Run({{x, Tensor::Scalar<int32_t>(i)}}, {sum}, {sum1}, &out).ok());
    result = out[0].scalar<int32_t>();
  }
  EXPECT_EQ(result, 120);
  EXPECT_THAT(printed, ElementsAre("sum: 1", "sum: 2", "sum: 6", "sum: 24", "sum: 120"));
}

// a = Variable(0); op_x = assign(a, a + 1): 1, 2, 3, 4, 5.
TEST(SeedProgramsTest, Accumulator) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable a = NewVariable(root, 0, {.dtype = DType::kInt32});
  Output op_x = ops::Assign(root, a, ops::Add(root, a, 1));
  ASSERT_TRUE(root.ok()) << root.status();
  Session s(&g);
  ASSERT_TRUE(s.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  std::vector<int32_t> seen;
  for (int i = 0; i < 5; ++i) {
    std::vector<Tensor> out;
    ASSERT_TRUE(s.Run({}, {op_x}, &out).ok());
    seen.push_back(out[0].scalar<int32_t>());
  }
  EXPECT_THAT(seen, ElementsAre(1, 2, 3, 4, 5));
}

// b = Variable([], validate_shape=False); op_b = assign(b, concat([b, [0,
// 0]], 0), validate_shape=False): the variable grows by two each run.
TEST(SeedProgramsTest, VariableGrowsByConcatWithoutShapeValidation) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable b = NewVariable(root, Tensor(DType::kFloat32, TensorShape{0}),
                           {.trainable = false, .validate_shape = false});
  Output concat = ops::Concat(root, {b, {0.0f, 0.0f}}, 0);
  Output op_b = ops::Assign(root, b, concat, {.validate_shape = false});
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_TRUE(TrainableVariables(g).empty());
  Session s(&g);
  ASSERT_TRUE(s.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  for (int i = 1; i <= 5; ++i) {
    std::vector<Tensor> out;
    ASSERT_TRUE(s.Run({}, {op_b}, &out).ok());
    EXPECT_EQ(out[0].shape(), TensorShape({2 * i}));
    EXPECT_THAT(Floats(out[0]), ::testing::Each(0.0f));
  }
  // With validation the same assignment is refused at build time.
  Output strict = ops::Assign(root, b, concat);
  EXPECT_TRUE(strict.valid());  // b has no declared shape: nothing to check
}

// func() in variable_scope('op1') and ('op2'): get_variable names take the
// variable scope, the multiply takes the name scope.
TEST(SeedProgramsTest, VariableScopeFunctionNames) {
  Graph g;
  Scope root = Scope::Root(&g);
  auto func = [](const Scope& s) {
    Variable weight = GetVariable(s, "weight", {1}, {.initializer = RandomNormalInitializer()});
    Variable bias = GetVariable(s, "bias", {1}, {.initializer = RandomNormalInitializer()});
    Output op = ops::Multiply(s, ops::Index(s, weight, 0), ops::Index(s, bias, 0));
    return std::make_pair(weight, op);
  };
  auto [weight1, result1] = func(root.VariableScope("op1"));
  auto [weight2, result2] = func(root.VariableScope("op2"));
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(weight1.name(), "op1/weight:0");
  EXPECT_EQ(result1.name(), "op1/Mul:0");
  EXPECT_EQ(weight2.name(), "op2/weight:0");
  EXPECT_EQ(result2.name(), "op2/Mul:0");
  Session s(&g);
  ASSERT_TRUE(s.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  std::vector<Tensor> out;
  ASSERT_TRUE(s.Run({}, {weight1, GetVariable(root.VariableScope("op1", {.reuse = VariableReuse::kReuse}), "bias", {1}), result1}, &out).ok());
  EXPECT_FLOAT_EQ(out[2].scalar<float>(), out[0].data<float>()[0] * out[1].data<float>()[0]);
}

// The nested name_scope / variable_scope program: names and values as the
// course prints them.
TEST(SeedProgramsTest, NestedNameAndVariableScopes) {
  Graph g;
  Scope root = Scope::Root(&g);
  Scope name1 = root.NewSubScope("name1");
  Variable gv = GetVariable(name1, "g", {1}, {.initializer = ConstantInitializer(0.0)});
  Scope variable1 = name1.VariableScope("variable1");
  Variable a = NewVariable(variable1, 1.0f, {.name = "a"});
  Variable b = GetVariable(variable1, "b", {1}, {.initializer = ConstantInitializer(2.0)});
  Output c = ops::Add(variable1, a, b);
  // with name_scope(name1): re-entering the captured scope object.
  Variable d = NewVariable(name1, 4.0f, {.name = "d"});
  Variable e = GetVariable(name1, "e", {1}, {.initializer = ConstantInitializer(5.0)});
  Output f = ops::Add(name1, d, e);

  Scope variable2 = root.VariableScope("variable2", {.initializer = ConstantInitializer(0.3)});
  Scope name2 = variable2.NewSubScope("name2");
  Variable h = GetVariable(name2, "h", {1});
  Variable i = GetVariable(name2, "i", {1}, {.initializer = ConstantInitializer(0.2)});
  Scope variable3 = name2.VariableScope("variable3");
  Variable j = GetVariable(variable3, "j", {2});
  Scope reentered = variable3.VariableScope(variable2);
  Variable k = GetVariable(reentered, "k", {1});
  Variable n = NewVariable(reentered, 9.0f);
  Output r = ops::Add(reentered, ops::Add(reentered, i, ops::Index(reentered, j, 0)), k);
  ASSERT_TRUE(root.ok()) << root.status();

  EXPECT_EQ(gv.name(), "g:0");
  EXPECT_EQ(a.name(), "name1/variable1/a:0");
  EXPECT_EQ(b.name(), "variable1/b:0");
  EXPECT_EQ(c.name(), "name1/variable1/Add:0");
  EXPECT_EQ(d.name(), "name1/d:0");
  EXPECT_EQ(e.name(), "e:0");
  EXPECT_EQ(f.name(), "name1/Add:0");
  EXPECT_EQ(h.name(), "variable2/h:0");
  EXPECT_EQ(i.name(), "variable2/i:0");
  EXPECT_EQ(j.name(), "variable2/variable3/j:0");
  EXPECT_EQ(k.name(), "variable2/k:0");
  EXPECT_EQ(n.name(), "variable2/name2/variable3/variable2/Variable:0");
  EXPECT_EQ(r.name(), "variable2/name2/variable3/variable2/Add_1:0");

  Session s(&g);
  ASSERT_TRUE(s.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  std::vector<Tensor> out;
  ASSERT_TRUE(s.Run({}, {gv, a, b, c, d, e, f, h, i, j, k, n, r}, &out).ok());
  EXPECT_THAT(Floats(out[0]), ElementsAre(0.0f));
  EXPECT_EQ(out[1].scalar<float>(), 1.0f);
  EXPECT_THAT(Floats(out[2]), ElementsAre(2.0f));
  EXPECT_THAT(Floats(out[3]), ElementsAre(3.0f));
  EXPECT_EQ(out[4].scalar<float>(), 4.0f);
  EXPECT_THAT(Floats(out[5]), ElementsAre(5.0f));
  EXPECT_THAT(Floats(out[6]), ElementsAre(9.0f));
  EXPECT_THAT(Floats(out[7]), ElementsAre(FloatNear(0.3f, 1e-6)));
  EXPECT_THAT(Floats(out[8]), ElementsAre(FloatNear(0.2f, 1e-6)));
  EXPECT_THAT(Floats(out[9]), ElementsAre(FloatNear(0.3f, 1e-6), FloatNear(0.3f, 1e-6)));
  EXPECT_THAT(Floats(out[10]), ElementsAre(FloatNear(0.3f, 1e-6)));
  EXPECT_EQ(out[11].scalar<float>(), 9.0f);
  EXPECT_THAT(Floats(out[12]), ElementsAre(FloatNear(0.8f, 1e-6)));

  // get_variable of an existing name without reuse is refused.
  Scope again = root.VariableScope("op");
  GetVariable(again, "w", {1});
  Scope again2 = Scope::Root(&g);
  GetVariable(again2, "g", {1});
  EXPECT_EQ(again2.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(again2.status().message()), HasSubstr("already exists"));
}

}  // namespace
}  // namespace sluice
