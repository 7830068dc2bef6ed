#include "graph/session.h"

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "graph/kernel_registry.h"
#include "graph/op_registry.h"
#include "graph/ops/ops.h"
#include "graph/scope.h"
#include "graph/variables.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

// A test op that counts its kernel invocations.
std::atomic<int> g_counting_calls{0};
void RegisterCountingOp() {
  static bool once = [] {
    (void)OpRegistry::Global()->Register(OpDef{"TestCountingIdentity", shape_fns::UnchangedShape});
    KernelDef k;
    k.op = "TestCountingIdentity";
    k.fn = [](OpKernelContext* ctx) {
      g_counting_calls.fetch_add(1);
      ctx->set_output(0, ctx->input(0));
      return absl::OkStatus();
    };
    KernelRegistry::Global()->Register(std::move(k));
    return true;
  }();
  (void)once;
}

TEST(SessionTest, PrunesToWhatFetchesNeed) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output x = ops::Placeholder(root, DType::kFloat32);
  Output unrelated = ops::Add(root, x, 1.0f);  // needs x, never fetched
  Output c = ops::Mul(root, ops::Const(root, 2.0f), 3.0f);
  ASSERT_TRUE(root.ok());
  (void)unrelated;
  Session s(&g);
  std::vector<Tensor> out;
  RunMetadata md;
  ASSERT_TRUE(s.Run(RunOptions{}, {}, {c}, {}, &out, &md).ok());
  EXPECT_EQ(out[0].scalar<float>(), 6.0f);
  EXPECT_EQ(md.nodes_executed, 3);  // two Consts and Mul
  EXPECT_THAT(md.executed, ::testing::Not(::testing::Contains("Add")));
}

TEST(SessionTest, SharedWorkIsEvaluatedOncePerRun) {
  RegisterCountingOp();
  Graph g;
  Scope root = Scope::Root(&g);
  Output base = Output(root.AddNode("TestCountingIdentity", "counted", {ops::Const(root, 2.0f)}), 0);
  Output a = ops::Add(root, base, 1.0f);
  Output b = ops::Mul(root, base, 10.0f);
  Output c = ops::Add(root, a, b);
  ASSERT_TRUE(root.ok()) << root.status();
  Session s(&g);
  g_counting_calls = 0;
  std::vector<Tensor> out;
  ASSERT_TRUE(s.Run({}, {base, a, b, c}, &out).ok());
  EXPECT_EQ(g_counting_calls.load(), 1);
  EXPECT_EQ(out[3].scalar<float>(), 23.0f);
  ASSERT_TRUE(s.Run({}, {a, b}, &out).ok());
  EXPECT_EQ(g_counting_calls.load(), 2);
}

TEST(SessionTest, FeedingAnIntermediateTensorSkipsItsProducer) {
  RegisterCountingOp();
  Graph g;
  Scope root = Scope::Root(&g);
  Output base = Output(root.AddNode("TestCountingIdentity", "counted", {ops::Const(root, 2.0f)}), 0);
  Output y = ops::Mul(root, base, 3.0f);
  Session s(&g);
  g_counting_calls = 0;
  std::vector<Tensor> out;
  ASSERT_TRUE(s.Run({{base, Tensor::Scalar<float>(5)}}, {y}, &out).ok());
  EXPECT_EQ(out[0].scalar<float>(), 15.0f);
  EXPECT_EQ(g_counting_calls.load(), 0);
}

TEST(SessionTest, MissingPlaceholderErrorNamesIt) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output x = ops::Placeholder(root.WithOpName("images"), DType::kFloat32, {-1, 784});
  Output y = ops::ReduceSum(root, x);
  Session s(&g);
  std::vector<Tensor> out;
  absl::Status st = s.Run({}, {y}, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("You must feed a value for placeholder tensor 'images' with dtype float "
                        "and shape [?,784]"));
}

TEST(SessionTest, FeedOfWrongDtypeOrShapeIsRefused) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output x = ops::Placeholder(root, DType::kFloat32, {-1, 2});
  Output y = ops::Identity(root, x);
  Session s(&g);
  std::vector<Tensor> out;
  EXPECT_EQ(s.Run({{x, Tensor::Scalar<int32_t>(1)}}, {y}, &out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Run({{x, Tensor::Zeros(DType::kFloat32, {3, 3})}}, {y}, &out).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(s.Run({{x, Tensor::Zeros(DType::kFloat32, {3, 2})}}, {y}, &out).ok());
  EXPECT_EQ(out[0].shape(), TensorShape({3, 2}));
}

TEST(SessionTest, PlaceholderWithDefaultYieldsDefaultUnlessFed) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output p = ops::PlaceholderWithDefault(root, {1.0f, 2.0f}, {-1});
  Output y = ops::Mul(root, p, 2.0f);
  Session s(&g);
  std::vector<Tensor> out;
  ASSERT_TRUE(s.Run({}, {y}, &out).ok());
  EXPECT_EQ(out[0].data<float>()[1], 4.0f);
  ASSERT_TRUE(s.Run({{p, Tensor::FromVector<float>({5, 6, 7}, {3})}}, {y}, &out).ok());
  EXPECT_EQ(out[0].NumElements(), 3);
  EXPECT_EQ(out[0].data<float>()[2], 14.0f);
}

TEST(SessionTest, UninitializedVariableIsFailedPrecondition) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable v = NewVariable(root, 1.0f, {.name = "w"});
  Output y = ops::Add(root, v, 1.0f);
  Session s(&g);
  std::vector<Tensor> out;
  absl::Status st = s.Run({}, {y}, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(st.message()), HasSubstr("Attempting to use uninitialized value w"));
  ASSERT_TRUE(s.Run({}, {}, {v.initializer()}, nullptr).ok());
  ASSERT_TRUE(s.Run({}, {y}, &out).ok());
  EXPECT_EQ(out[0].scalar<float>(), 2.0f);
}

TEST(SessionTest, TwoSessionsHaveSeparateVariables) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable v = NewVariable(root, 1.0f);
  Output inc = ops::AssignAdd(root, v, 1.0f);
  Session s1(&g), s2(&g);
  ASSERT_TRUE(s1.Run({}, {}, {v.initializer()}, nullptr).ok());
  ASSERT_TRUE(s2.Run({}, {}, {v.initializer()}, nullptr).ok());
  std::vector<Tensor> out;
  ASSERT_TRUE(s1.Run({}, {inc}, &out).ok());
  ASSERT_TRUE(s1.Run({}, {inc}, &out).ok());
  EXPECT_EQ(s1.ReadVariable(v)->scalar<float>(), 3.0f);
  EXPECT_EQ(s2.ReadVariable(v)->scalar<float>(), 1.0f);
  ASSERT_TRUE(s2.AssignVariable(v, Tensor::Scalar<float>(7)).ok());
  ASSERT_TRUE(s2.Run({}, {v}, &out).ok());
  EXPECT_EQ(out[0].scalar<float>(), 7.0f);
}

TEST(SessionTest, VariableUpdatesNeverChangeValuesAlreadyFetched) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable v = NewVariable(root, {1.0f, 2.0f});
  Output sub = ops::AssignSub(root, v, {0.5f, 0.5f});
  Output init_value = v.initial_value();
  Session s(&g);
  ASSERT_TRUE(s.Run({}, {}, {v.initializer()}, nullptr).ok());
  std::vector<Tensor> before;
  ASSERT_TRUE(s.Run({}, {v}, &before).ok());
  std::vector<Tensor> out;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.Run({}, {}, {sub.op()}, nullptr).ok());
  EXPECT_EQ(before[0].data<float>()[0], 1.0f);  // still the value when fetched
  ASSERT_TRUE(s.Run({}, {v, init_value}, &out).ok());
  EXPECT_EQ(out[0].data<float>()[0], -0.5f);
  EXPECT_EQ(out[0].data<float>()[1], 0.5f);
  EXPECT_EQ(out[1].data<float>()[0], 1.0f);  // the constant was not updated in place
}

TEST(SessionTest, RunDeadlineWakesBlockedDequeue) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output q = ops::FIFOQueue(root, {.dtypes = {DType::kFloat32}, .shapes = {TensorShape{}}, .capacity = 4});
  std::vector<Output> deq = ops::QueueDequeue(root, q);
  ASSERT_TRUE(root.ok()) << root.status();
  Session s(&g);
  std::vector<Tensor> out;
  absl::Status st = s.Run(RunOptions::Timeout(absl::Milliseconds(50)), {}, {deq[0]}, {}, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
}

TEST(SessionTest, CloseCancelsBlockedDequeue) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output q = ops::FIFOQueue(root, {.dtypes = {DType::kFloat32}, .shapes = {TensorShape{}}});
  std::vector<Output> deq = ops::QueueDequeue(root, q);
  Session s(&g);
  ASSERT_TRUE(s.GetQueue(q).ok());
  auto blocked = std::async(std::launch::async, [&] {
    std::vector<Tensor> out;
    // A deadline so that a broken Close fails the test instead of hanging.
    return s.Run(RunOptions::Timeout(absl::Seconds(30)), {}, {deq[0]}, {}, &out);
  });
  // The run must be in flight before the close (bounded wait).
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (s.runs_in_flight() < 1 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_EQ(s.runs_in_flight(), 1);
  ASSERT_TRUE(s.Close().ok());
  ASSERT_EQ(blocked.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(blocked.get().code(), absl::StatusCode::kCancelled);
  std::vector<Tensor> out;
  EXPECT_EQ(s.Run({}, {deq[0]}, &out).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SessionTest, TrainingStyleUpdatesReuseTheVariablesBuffer) {
  Graph g;
  Scope root = Scope::Root(&g);
  Variable w = NewVariable(root, {1.0f, 2.0f, 3.0f});
  Output x = ops::Placeholder(root, DType::kFloat32, {3});
  // The update reads w (through the gradient-like product) in the same run.
  Output step = ops::AssignSub(root, w, ops::Mul(root, ops::Mul(root, w, x), 0.5f));
  Session s(&g);
  ASSERT_TRUE(s.Run({}, {}, {w.initializer()}, nullptr).ok());
  Tensor ones = Tensor::FromVector<float>({1, 1, 1}, {3});
  ASSERT_TRUE(s.Run({{x, ones}}, {}, {step.op()}, nullptr).ok());
  const void* before = s.ReadVariable(w)->raw_data();
  ASSERT_TRUE(s.Run({{x, ones}}, {}, {step.op()}, nullptr).ok());
  Tensor now = *s.ReadVariable(w);
  EXPECT_EQ(now.raw_data(), before);
  EXPECT_EQ(now.data<float>()[2], 0.75f);  // 3 * 0.5 * 0.5
}

// Checklist 47: closing the session fails every blocked queue op with
// Cancelled "was cancelled".
TEST(SessionTest, CloseCancelsEveryKindOfBlockedQueueOp) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output full = ops::FIFOQueue(root, {.dtypes = {DType::kFloat32}, .shapes = {TensorShape{}}, .capacity = 1});
  Output empty = ops::FIFOQueue(root, {.dtypes = {DType::kFloat32}, .shapes = {TensorShape{}}, .capacity = 1});
  Operation fill = ops::QueueEnqueue(root, full, {1.0f});
  Operation enq = ops::QueueEnqueue(root, full, {2.0f});
  Operation enq_many = ops::QueueEnqueueMany(root, full, {{3.0f, 4.0f}});
  Output deq = ops::QueueDequeue(root, empty)[0];
  Output deq_many = ops::QueueDequeueMany(root, empty, 2)[0];
  ASSERT_TRUE(root.ok()) << root.status();
  Session s(&g);
  ASSERT_TRUE(s.Run({}, {}, {fill}, nullptr).ok());
  const RunOptions bounded = RunOptions::Timeout(absl::Seconds(30));
  std::vector<std::future<absl::Status>> blocked;
  blocked.push_back(std::async(std::launch::async, [&] { return s.Run(bounded, {}, {}, {enq}, nullptr); }));
  blocked.push_back(std::async(std::launch::async, [&] { return s.Run(bounded, {}, {}, {enq_many}, nullptr); }));
  blocked.push_back(std::async(std::launch::async, [&] { std::vector<Tensor> o; return s.Run(bounded, {}, {deq}, {}, &o); }));
  blocked.push_back(std::async(std::launch::async, [&] { std::vector<Tensor> o; return s.Run(bounded, {}, {deq_many}, {}, &o); }));
  // Every run must be in flight before the close (a run that starts after
  // it fails with FailedPrecondition instead); bounded wait.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (s.runs_in_flight() < 4 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_EQ(s.runs_in_flight(), 4);
  ASSERT_TRUE(s.Close().ok());
  for (auto& f : blocked) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    absl::Status st = f.get();
    EXPECT_EQ(st.code(), absl::StatusCode::kCancelled) << st;
    EXPECT_THAT(std::string(st.message()), HasSubstr("was cancelled"));
  }
}

// Checklists 48-49: a session-wide operation timeout; timed-out dequeues
// consume nothing and the queue stays usable.
TEST(SessionTest, OperationTimeoutAndReuseAfterTimeout) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output q = ops::FIFOQueue(root, {.dtypes = {DType::kInt32}, .shapes = {TensorShape{}}, .capacity = 4});
  Output deq = ops::QueueDequeue(root, q)[0];
  Operation enq = ops::QueueEnqueue(root, q, {37});
  Session s(&g, SessionOptions{.operation_timeout = absl::Milliseconds(20)});
  std::vector<Tensor> out;
  for (int i = 0; i < 2; ++i) {
    absl::Status st = s.Run({}, {deq}, &out);
    EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_THAT(std::string(st.message()), HasSubstr("Timed out waiting for notification"));
  }
  ASSERT_TRUE(s.Run({}, {}, {enq}, nullptr).ok());
  ASSERT_TRUE(s.Run({}, {deq}, &out).ok());
  EXPECT_EQ(out[0].scalar<int32_t>(), 37);
}

TEST(SessionTest, EnqueueThenDequeueThroughTheGraph) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output q = ops::FIFOQueue(root, {.dtypes = {DType::kInt32}, .shapes = {TensorShape{}}, .capacity = 10});
  Output x = ops::Placeholder(root, DType::kInt32, {-1});
  Operation enq = ops::QueueEnqueueMany(root, q, {x});
  std::vector<Output> deq = ops::QueueDequeueMany(root, q, 3);
  Output size = ops::QueueSize(root, q);
  Operation close = ops::QueueClose(root, q);
  std::vector<Output> rest = ops::QueueDequeueUpTo(root, q, 10);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(deq[0].shape(), TensorShape({3}));
  Session s(&g);
  std::vector<Tensor> out;
  ASSERT_TRUE(s.Run({{x, Tensor::FromVector<int32_t>({1, 2, 3, 4, 5}, {5})}}, {}, {enq}, nullptr).ok());
  ASSERT_TRUE(s.Run({}, {deq[0]}, &out).ok());
  EXPECT_THAT(std::vector<int32_t>(out[0].data<int32_t>(), out[0].data<int32_t>() + 3),
              ::testing::ElementsAre(1, 2, 3));
  ASSERT_TRUE(s.Run({}, {size}, &out).ok());
  EXPECT_EQ(out[0].scalar<int32_t>(), 2);
  ASSERT_TRUE(s.Run({}, {}, {close}, nullptr).ok());
  ASSERT_TRUE(s.Run({}, {rest[0]}, &out).ok());
  EXPECT_EQ(out[0].NumElements(), 2);
  EXPECT_EQ(s.Run({}, {rest[0]}, &out).code(), absl::StatusCode::kOutOfRange);
}

TEST(SessionTest, CrossGraphFetchNamesBothGraphs) {
  Graph g1("first"), g2("second");
  Scope r2 = Scope::Root(&g2);
  Output c = ops::Const(r2, 1.0f);
  Session s(&g1);
  std::vector<Tensor> out;
  absl::Status st = s.Run({}, {c}, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr("'second'"));
  EXPECT_THAT(std::string(st.message()), HasSubstr("'first'"));
}

TEST(SessionTest, GpuRequestFallsBackToCpuWithSoftPlacement) {
  Graph g;
  Scope root = Scope::Root(&g);
  Scope gpu = root.WithDevice("/gpu:0");
  Output d = ops::Const(gpu, 3.0f);
  Output f = ops::Add(gpu, d, 4.0f);
  ASSERT_TRUE(root.ok());
  {
    std::vector<std::string> log;
    Session soft(&g, SessionOptions{.allow_soft_placement = true,
                                    .log_device_placement = true,
                                    .log_sink = [&](std::string_view l) { log.emplace_back(l); }});
    std::vector<Tensor> out;
    ASSERT_TRUE(soft.Run({}, {f}, &out).ok());
    EXPECT_EQ(out[0].scalar<float>(), 7.0f);
    EXPECT_THAT(log, ::testing::Contains("Add: (Add): /job:localhost/replica:0/task:0/device:CPU:0"));
    EXPECT_EQ(soft.placement_log(), log);
  }
  Session hard(&g);
  std::vector<Tensor> out;
  absl::Status st = hard.Run({}, {f}, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr("Cannot assign a device for operation"));
  EXPECT_THAT(std::string(st.message()), HasSubstr("/device:GPU:0"));
}

TEST(SessionTest, ExplicitCpuRequestIsHonoured) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output c = ops::Add(root.WithDevice("/cpu:0"), 1.0f, 2.0f);
  Session s(&g);
  std::vector<Tensor> out;
  ASSERT_TRUE(s.Run({}, {c}, &out).ok());
  EXPECT_EQ(out[0].scalar<float>(), 3.0f);
}

TEST(SessionTest, MalformedDeviceIsInvalidArgument) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output c = ops::Const(root.WithDevice("/tpu:0"), 1.0f);
  Session s(&g, SessionOptions{.allow_soft_placement = true});
  std::vector<Tensor> out;
  EXPECT_EQ(s.Run({}, {c}, &out).code(), absl::StatusCode::kInvalidArgument);
}

TEST(SessionTest, IndependentBranchesRunConcurrentlyAndAgree) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output x = ops::Placeholder(root, DType::kFloat32, {64, 64});
  std::vector<Input> branches;
  for (int i = 0; i < 8; ++i) branches.push_back(ops::ReduceSum(root, ops::MatMul(root, x, x)));
  Output total = ops::AddN(root, branches);
  ASSERT_TRUE(root.ok()) << root.status();
  Tensor ones(DType::kFloat32, {64, 64});
  for (int i = 0; i < 64 * 64; ++i) ones.data<float>()[i] = 1.0f;
  Session s(&g);
  // Several runs from several threads at once.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<Tensor> out;
      if (s.Run({{x, ones}}, {total}, &out).ok() && out[0].scalar<float>() == 8.0f * 64 * 64 * 64) {
        ok.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
}

}  // namespace
}  // namespace sluice
