// RunOptions::fetch_ready: each fetch computed by a CPU kernel is reported
// as soon as it is produced, in dependency order, with the value the run
// returns; fetches of feeds and variables are not reported.

#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/session.h"
#include "graph/variables.h"

namespace sluice {
namespace {

TEST(SessionFetchReadyTest, ReportsComputedFetchesInDependencyOrder) {
  Graph g("g");
  Scope s = Scope::Root(&g);
  Output x = ops::Placeholder(s, DType::kFloat32, TensorShape{4});
  Output a = ops::Mul(s, x, 2.0f);
  Output b = ops::Add(s, a, 1.0f);
  VariableOptions vo;
  vo.name = "v";
  Variable v = NewVariable(s, Tensor::FromVector<float>({7.0f}, {1}), vo);
  ASSERT_TRUE(s.status().ok()) << s.status();
  Session session(&g);
  ASSERT_TRUE(
      session.Run({}, {}, {GlobalVariablesInitializer(s)}, nullptr).ok());

  absl::Mutex mu;
  std::vector<std::pair<int, float>> reported;
  RunOptions ro;
  ro.fetch_ready = [&](int k, const Tensor& t) {
    absl::MutexLock l(&mu);
    reported.emplace_back(k, t.data<float>()[1]);
  };
  std::vector<Tensor> out;
  const Tensor xv = Tensor::FromVector<float>({1, 2, 3, 4}, {4});
  // Fetches: b, x (fed), a, v (a variable).
  ASSERT_TRUE(session.Run(ro, {{x, xv}}, {b, x, a, v.value()}, {}, &out).ok());
  ASSERT_EQ(out.size(), 4u);
  absl::MutexLock l(&mu);
  ASSERT_EQ(reported.size(), 2u);
  EXPECT_EQ(reported[0].first, 2);  // a before b, which reads it
  EXPECT_EQ(reported[0].second, 4.0f);
  EXPECT_EQ(reported[1].first, 0);
  EXPECT_EQ(reported[1].second, out[0].data<float>()[1]);
  EXPECT_EQ(out[0].data<float>()[1], 5.0f);
}

}  // namespace
}  // namespace sluice
