// InteractiveSession / DefaultSessionScope with Output::Eval and
// Operation::Run, Variable::initialized_value, and nested fetch structures.
#include "graph/default_session.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "graph/fetch_structure.h"
#include "graph/ops/ops.h"
#include "graph/variables.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(DefaultSessionTest, EvalAndRunNeedASession) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output c = ops::Const(root, 3.0f);
  auto v = c.Eval();
  EXPECT_EQ(v.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(v.status().message()),
              HasSubstr("No default session is registered"));
  Session explicit_session(&g);
  auto e = c.Eval({}, &explicit_session);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->scalar<float>(), 3.0f);
}

TEST(DefaultSessionTest, InteractiveSessionServesEvalAndRun) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable w = NewVariable(root, 2.0f, {.name = "w"});
  Output x = ops::Placeholder(root, DType::kFloat32, {});
  Output y = ops::Mul(root, w, x);
  Operation bump = ops::AssignAdd(root, w, 1.0f).op();
  {
    InteractiveSession sess(&g);
    EXPECT_EQ(GetDefaultSession(), &sess);
    ASSERT_TRUE(GlobalVariablesInitializer(root).Run().ok());
    ASSERT_TRUE(bump.Run().ok());
    auto v = y.Eval({{x, Tensor::Scalar<float>(5.0f)}});
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(v->scalar<float>(), 15.0f);
    // Another thread sees it too (no scope of its own there).
    float other = 0;
    std::thread t([&] { other = w.value().Eval()->scalar<float>(); });
    t.join();
    EXPECT_EQ(other, 3.0f);
  }
  EXPECT_EQ(GetDefaultSession(), nullptr);
}

TEST(DefaultSessionTest, ScopesNestAndCheckTheGraph) {
  Graph g1, g2;
  Scope r1 = Scope::Root(&g1), r2 = Scope::Root(&g2);
  Output a = ops::Const(r1, 1), b = ops::Const(r2, 2);
  Session s1(&g1), s2(&g2);
  DefaultSessionScope outer(&s1);
  EXPECT_EQ(a.Eval()->scalar<int32_t>(), 1);
  {
    DefaultSessionScope inner(&s2);
    EXPECT_EQ(b.Eval()->scalar<int32_t>(), 2);
    auto wrong = a.Eval();
    EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(wrong.status().message()),
                HasSubstr("is not the graph"));
  }
  EXPECT_EQ(GetDefaultSession(), &s1);
}

TEST(DefaultSessionTest, InitializedValueWorksInAnyInitializerOrder) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable v = NewVariable(root, ops::Const(root, {1.0f, 2.0f}), {.name = "v"});
  // w's initializer reads v whether or not v's initializer ran first.
  Variable w = NewVariable(root, ops::Mul(root, v.initialized_value(), 3.0f),
                           {.name = "w"});
  EXPECT_EQ(v.initialized_value().node()->name(), "v/initialized_value_1");
  Session sess(&g);
  ASSERT_TRUE(sess.Run({}, {}, {w.initializer()}, nullptr)
                  .ok());  // v still uninitialised
  EXPECT_FALSE(sess.IsVariableInitialized(v));
  EXPECT_THAT(sess.ReadVariable(w)->flat<float>(), ElementsAre(3.0f, 6.0f));
  // Once v is initialised (and changed), initialized_value is its value.
  ASSERT_TRUE(
      sess.AssignVariable(v, Tensor::FromVector<float>({5.0f, 7.0f}, {2}))
          .ok());
  ASSERT_TRUE(sess.Run({}, {}, {w.initializer()}, nullptr).ok());
  EXPECT_THAT(sess.ReadVariable(w)->flat<float>(), ElementsAre(15.0f, 21.0f));
}

TEST(DefaultSessionTest, NestedFetchesKeepTheirStructure) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable counter = NewVariable(root, 0, {.name = "counter"});
  Output a = ops::Const(root, 1), b = ops::Const(root, {2, 3});
  Operation inc = ops::AssignAdd(root, counter, 1).op();
  Session sess(&g);
  ASSERT_TRUE(sess.Run({}, {}, {counter.initializer()}, nullptr).ok());
  Fetch f = Fetch::Map({{"a", a},
                        {"nested", Fetch::List({b, Fetch::Map({{"again", a}}),
                                                Fetch::List({})})},
                        {"inc", inc}});
  auto r = RunStructured(&sess, {}, f);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)["a"].tensor().scalar<int32_t>(), 1);
  const FetchResult& nested = (*r)["nested"];
  ASSERT_EQ(nested.size(), 3u);
  EXPECT_THAT(nested[0].tensor().flat<int32_t>(), ElementsAre(2, 3));
  EXPECT_EQ(nested[1]["again"].tensor().scalar<int32_t>(), 1);
  EXPECT_EQ(nested[2].size(), 0u);
  EXPECT_TRUE((*r)["inc"].is_none());
  EXPECT_EQ(sess.ReadVariable(counter)->scalar<int32_t>(),
            1);  // the op ran once
  EXPECT_EQ(RunStructured(&sess, {}, Fetch(Output())).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice
