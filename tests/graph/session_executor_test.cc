// The Session's executor (session.cc): cheap nodes run inline on the
// calling thread from per-plan scratch frames, large CPU nodes go to oneTBB
// tasks when other nodes are ready. These tests check that concurrent runs
// of one plan never share scratch, that an error in a task names its node
// and leaves the plan reusable, and the deadline and stop checks.

#include <atomic>
#include <map>
#include <string>
#include <stop_token>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/session.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

// y = ((x + 1) * 0.5 + 1) * 0.5 ... `links` times, on [4] floats.
struct Chain {
  Output x, y;
  int links;
};

Chain MakeChain(Scope root, int links) {
  Chain c{ops::Placeholder(root, DType::kFloat32, {4}), {}, links};
  c.y = c.x;
  for (int i = 0; i < links; ++i) c.y = ops::Mul(root, ops::Add(root, c.y, 1.0f), 0.5f);
  return c;
}

float ChainOnHost(float v, int links) {
  for (int i = 0; i < links; ++i) v = (v + 1.0f) * 0.5f;
  return v;
}

Tensor Filled(std::initializer_list<int64_t> dims, float v) {
  Tensor t(DType::kFloat32, TensorShape(dims));
  for (float& e : t.flat<float>()) e = v;
  return t;
}

TEST(SessionExecutorTest, ConcurrentRunsOfOnePlanKeepTheirOwnValues) {
  Graph g;
  Scope root = Scope::Root(&g);
  Chain c = MakeChain(root, 20);
  ASSERT_TRUE(root.ok()) << root.status();
  Session s(&g);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < 200; ++r) {
        const float v = static_cast<float>(t * 1000 + r);
        Tensor in(DType::kFloat32, {4});
        for (int k = 0; k < 4; ++k) in.data<float>()[k] = v + k;
        std::vector<Tensor> out;
        if (!s.Run({{c.x, in}}, {c.y}, &out).ok() || out.size() != 1) {
          wrong.fetch_add(1);
          continue;
        }
        for (int k = 0; k < 4; ++k) {
          if (out[0].data<float>()[k] != ChainOnHost(v + k, c.links)) wrong.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(SessionExecutorTest, ErrorInAParallelBranchNamesItsNodeAndThePlanStaysUsable) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output a = ops::Placeholder(root, DType::kFloat32, {-1, -1});
  Output b = ops::Placeholder(root, DType::kFloat32, {-1, -1});
  // Two large independent CPU nodes: they run as tasks.
  Output good = ops::MatMul(root.WithOpName("good"), a, a);
  Output bad = ops::MatMul(root.WithOpName("bad"), a, b);
  Output total = ops::AddN(root, {ops::ReduceSum(root, good), ops::ReduceSum(root, bad)});
  ASSERT_TRUE(root.ok()) << root.status();
  Session s(&g);
  std::vector<Tensor> out;
  absl::Status st = s.Run({{a, Filled({64, 64}, 1.f)}, {b, Filled({65, 64}, 1.f)}}, {total}, &out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_NE(st.message().find("[[node bad"), absl::string_view::npos) << st;
  // Same plan (same feeds and fetches), now with compatible shapes.
  ASSERT_TRUE(s.Run({{a, Filled({64, 64}, 1.f)}, {b, Filled({64, 64}, 2.f)}}, {total}, &out).ok());
  EXPECT_EQ(out[0].scalar<float>(), 64.f * 64 * 64 + 2.f * 64 * 64 * 64);
}

TEST(SessionExecutorTest, MetadataListsEveryNodeOnceAfterItsInputs) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output a = ops::Placeholder(root, DType::kFloat32, {64, 64});
  std::vector<Input> branches;
  for (int i = 0; i < 4; ++i) branches.push_back(ops::ReduceSum(root, ops::MatMul(root, a, a)));
  Output total = ops::AddN(root.WithOpName("total"), branches);
  ASSERT_TRUE(root.ok()) << root.status();
  Session s(&g);
  std::vector<Tensor> out;
  RunMetadata meta;
  ASSERT_TRUE(s.Run(RunOptions{}, {{a, Filled({64, 64}, 1.f)}}, {total}, {}, &out, &meta).ok());
  ASSERT_EQ(meta.nodes_executed, static_cast<int64_t>(meta.executed.size()));
  // 4 x (MatMul, ReduceSum and its axes constant) + AddN.
  EXPECT_EQ(meta.nodes_executed, 13);
  EXPECT_EQ(meta.executed.back(), "total");
  std::map<std::string, size_t> position;
  for (size_t i = 0; i < meta.executed.size(); ++i) {
    EXPECT_TRUE(position.emplace(meta.executed[i], i).second) << meta.executed[i] << " twice";
  }
  for (const auto& [name, pos] : position) {
    const Node* n = g.FindNode(name);
    ASSERT_NE(n, nullptr) << name;
    for (const Output& in : n->inputs()) {
      if (in.node()->type() == "Placeholder") continue;  // fed, not run
      auto it = position.find(in.node()->name());
      ASSERT_NE(it, position.end()) << in.node()->name();
      EXPECT_LT(it->second, pos) << in.node()->name() << " after " << name;
    }
  }
}

TEST(SessionExecutorTest, PassedDeadlineFailsARunOfCheapNodes) {
  Graph g;
  Scope root = Scope::Root(&g);
  Chain c = MakeChain(root, 5);
  ASSERT_TRUE(root.ok()) << root.status();
  Session s(&g);
  std::vector<Tensor> out;
  RunOptions late{absl::Now() - absl::Seconds(1), {}};
  absl::Status st = s.Run(late, {{c.x, Filled({4}, 1.f)}}, {c.y}, {}, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  // The next run of the same plan is unaffected.
  ASSERT_TRUE(s.Run({{c.x, Filled({4}, 1.f)}}, {c.y}, &out).ok());
  EXPECT_EQ(out[0].data<float>()[0], ChainOnHost(1.f, c.links));
}

TEST(SessionExecutorTest, CallerStopTokenCancelsTheRun) {
  Graph g;
  Scope root = Scope::Root(&g);
  Chain c = MakeChain(root, 5);
  ASSERT_TRUE(root.ok()) << root.status();
  Session s(&g);
  std::stop_source stop;
  stop.request_stop();
  std::vector<Tensor> out;
  absl::Status st = s.Run(RunOptions{absl::InfiniteFuture(), stop.get_token()},
                          {{c.x, Filled({4}, 1.f)}}, {c.y}, {}, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kCancelled) << st;
  // A token that is never triggered does not cancel.
  std::stop_source idle;
  ASSERT_TRUE(s.Run(RunOptions{absl::InfiniteFuture(), idle.get_token()},
                    {{c.x, Filled({4}, 1.f)}}, {c.y}, {}, &out).ok());
  EXPECT_EQ(out[0].data<float>()[0], ChainOnHost(1.f, c.links));
}

}  // namespace
}  // namespace sluice
