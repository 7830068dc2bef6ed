// Session step capture (SessionOptions::capture_device_steps) against a
// simulated recording device, so the session's side of it runs in CI
// without a GPU: when a run signature is recorded and replayed, that
// replays compute what ordinary runs compute (host nodes included), that a
// changed variable makes it record again, that a failed recording leaves
// the step applied exactly once, and which plans are not recorded.
//
// The simulated device's kernels (kGPU kernels for Const, VariableV2,
// Assign, Mul and AssignAdd, registered by this test binary) queue
// closures while recording and run them at each launch, as a CUDA graph
// replays its kernels; gpu_step_capture_test does the same against CUDA. Like
// a CUDA graph, a recording keeps the addresses of memory it does not own
// (a staging slot), not the memory itself.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "../support/simulated_device.h"
#include "graph/kernel_registry.h"
#include "graph/ops/ops.h"
#include "graph/session.h"
#include "pipeline/prefetch/device_prefetcher.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

// "Device memory" that is host memory underneath.
class FakeDeviceMemory final : public Allocator {
 public:
  std::string_view name() const override { return "fake_device"; }
  MemoryKind kind() const override { return MemoryKind::kDevice; }
  void* Allocate(size_t bytes, size_t) override {
    allocated.fetch_add(bytes);
    return std::malloc(bytes == 0 ? 1 : bytes);
  }
  void Deallocate(void* p, size_t) override { std::free(p); }
  std::atomic<uint64_t> allocated{0};
};

using Recording = std::vector<std::function<void()>>;

class FakeWork final : public CapturedWork {
 public:
  FakeWork(std::shared_ptr<Recording> r, std::atomic<int>* launches)
      : r_(std::move(r)), launches_(launches) {}
  absl::Status Launch() const override {
    for (const auto& fn : *r_) fn();
    launches_->fetch_add(1);
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<Recording> r_;
  std::atomic<int>* launches_;
};

class FakeGpu final : public DeviceContext {
 public:
  FakeGpu() = default;
  DeviceType type() const override { return DeviceType::kGPU; }
  Allocator* allocator() const override { return memory_; }
  absl::StatusOr<Tensor> CopyToDevice(const Tensor& host) const override {
    if (host.buffer()->allocator()->kind() == MemoryKind::kDevice) return host;
    return host.DeepCopy(memory_);
  }
  absl::StatusOr<Tensor> CopyToHost(const Tensor& t) const override {
    if (capturing())
      return absl::FailedPreconditionError("host copy while recording");
    return t.DeepCopy();
  }
  absl::Status CopyInto(const Tensor& src, const Tensor& dst) const override {
    root().feed_copies.fetch_add(1);
    std::memcpy(dst.raw_data(), src.raw_data(), src.ByteSize());
    return absl::OkStatus();
  }
  // Streams run inline (the simulated device is never behind), so the
  // DevicePrefetcher can stage batches on it.
  DeviceStream* compute_stream() const override { return &stream_; }
  absl::StatusOr<std::unique_ptr<DeviceStream>> NewStream() const override {
    return std::unique_ptr<DeviceStream>(new testing_sim::SimStream(/*threaded=*/false));
  }
  absl::StatusOr<std::unique_ptr<DeviceEvent>> NewEvent() const override {
    return std::unique_ptr<DeviceEvent>(new testing_sim::SimEvent());
  }
  absl::StatusOr<std::unique_ptr<DeviceCapture>> BeginCapture(
      size_t) const override;
  bool capturing() const override { return recording_ != nullptr; }
  uint64_t bytes_allocated() const override {
    return memory_->allocated.load();
  }

  // Runs `fn` now, or records it for every launch while recording.
  void Run(std::function<void()> fn) const {
    if (recording_ != nullptr) {
      recording_->push_back(std::move(fn));
    } else {
      fn();
    }
  }
  const FakeGpu& root() const { return parent_ != nullptr ? *parent_ : *this; }

  // Knobs and counters of the device (the root context).
  bool refuse_captures = false;
  bool fail_assign_add_while_recording = false;
  mutable std::atomic<int> launches{0};
  mutable std::atomic<int> feed_copies{0};  // CopyInto calls (a captured step's feed copy)
  // Tensors a recorded kernel keeps alive: those in this device's own
  // memory (the arena's role); others (staging slots) by address only.
  std::vector<Tensor> Owned(std::initializer_list<Tensor> ts) const {
    std::vector<Tensor> kept;
    for (const Tensor& t : ts) {
      if (t.buffer()->allocator() == memory_) kept.push_back(t);
    }
    return kept;
  }

 private:
  friend class FakeCapture;
  FakeDeviceMemory* memory_ = &own_memory_;
  FakeDeviceMemory own_memory_;
  mutable testing_sim::SimStream stream_{/*threaded=*/false};
  const FakeGpu* parent_ = nullptr;       // set on a capture's context
  std::shared_ptr<Recording> recording_;  // set on a capture's context
};

class FakeCapture final : public DeviceCapture {
 public:
  explicit FakeCapture(const FakeGpu* parent) {
    ctx_.memory_ = parent->memory_;
    ctx_.parent_ = parent;
    ctx_.recording_ = std::make_shared<Recording>();
  }
  DeviceContext* context() override { return &ctx_; }
  absl::StatusOr<std::unique_ptr<CapturedWork>> Finish() override {
    return std::unique_ptr<CapturedWork>(
        new FakeWork(ctx_.recording_, &ctx_.parent_->launches));
  }

 private:
  FakeGpu ctx_;
};

absl::StatusOr<std::unique_ptr<DeviceCapture>> FakeGpu::BeginCapture(
    size_t) const {
  if (refuse_captures)
    return absl::UnimplementedError("test: this device refuses to record");
  return std::unique_ptr<DeviceCapture>(new FakeCapture(this));
}

const FakeGpu* Fake(const OpKernelContext* ctx) {
  return static_cast<const FakeGpu*>(ctx->device());
}

void Reg(const char* op, KernelFn fn, bool inexpensive = false) {
  KernelDef k;
  k.op = op;
  k.device = DeviceType::kGPU;
  k.fn = std::move(fn);
  k.inexpensive = inexpensive;
  KernelRegistry::Global()->Register(std::move(k));
}

// The simulated device's kernels (float only, element-wise with scalar
// broadcast), in the same roles as the CUDA ones.
void RegisterFakeGpuKernels() {
  static const bool once = [] {
    Reg(
        "Const",
        [](OpKernelContext* ctx) -> absl::Status {
          SLUICE_ASSIGN_OR_RETURN(Tensor v, ctx->GetAttr<Tensor>("value"));
          ctx->set_output(0, v);  // host memory, as on the GPU
          return absl::OkStatus();
        },
        true);
    Reg(
        "VariableV2",
        [](OpKernelContext* ctx) -> absl::Status {
          SLUICE_ASSIGN_OR_RETURN(
              std::shared_ptr<VariableState> v,
              GetVariableState(ctx->resources(), &ctx->node()));
          absl::MutexLock l(&v->mu);
          ctx->set_output(0,
                          v->initialized ? v->value : Tensor::Scalar<float>(0));
          return absl::OkStatus();
        },
        true);
    Reg(
        "Assign",
        [](OpKernelContext* ctx) -> absl::Status {
          SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> v,
                                  ctx->variable(0));
          SLUICE_ASSIGN_OR_RETURN(Tensor value,
                                  ctx->device()->CopyToDevice(ctx->input(1)));
          absl::MutexLock l(&v->mu);
          v->value = value;
          v->initialized = true;
          ctx->set_output(0, value);
          return absl::OkStatus();
        },
        true);
    Reg("Mul", [](OpKernelContext* ctx) -> absl::Status {
      SLUICE_ASSIGN_OR_RETURN(Tensor a,
                              ctx->device()->CopyToDevice(ctx->input(0)));
      SLUICE_ASSIGN_OR_RETURN(Tensor b,
                              ctx->device()->CopyToDevice(ctx->input(1)));
      if (b.NumElements() != 1 && b.NumElements() != a.NumElements()) {
        return absl::InvalidArgumentError("fake Mul: shapes");
      }
      Tensor out(DType::kFloat32, a.shape(), ctx->device()->allocator());
      const float* pa = static_cast<const float*>(a.raw_data());
      const float* pb = static_cast<const float*>(b.raw_data());
      float* po = static_cast<float*>(out.raw_data());
      const int64_t n = out.NumElements(), bn = b.NumElements();
      Fake(ctx)->Run([pa, pb, po, n, bn, keep = Fake(ctx)->Owned({a, b, out})] {
        for (int64_t i = 0; i < n; ++i) po[i] = pa[i] * pb[bn == 1 ? 0 : i];
      });
      ctx->set_output(0, out);
      return absl::OkStatus();
    });
    Reg("AssignAdd", [](OpKernelContext* ctx) -> absl::Status {
      SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<VariableState> v,
                              ctx->variable(0));
      SLUICE_ASSIGN_OR_RETURN(Tensor delta,
                              ctx->device()->CopyToDevice(ctx->input(1)));
      absl::MutexLock l(&v->mu);
      SLUICE_ASSIGN_OR_RETURN(Tensor w, ctx->device()->CopyToDevice(v->value));
      const bool in_place =
          ctx->update_variables_in_place() || ctx->device()->capturing();
      Tensor target = in_place ? w
                               : Tensor(DType::kFloat32, w.shape(),
                                        ctx->device()->allocator());
      const float* pw = static_cast<const float*>(w.raw_data());
      const float* pd = static_cast<const float*>(delta.raw_data());
      float* pt = static_cast<float*>(target.raw_data());
      const int64_t n = target.NumElements();
      Fake(ctx)->Run([pw, pd, pt, n, keep = Fake(ctx)->Owned({w, delta, target})] {
        for (int64_t i = 0; i < n; ++i) pt[i] = pw[i] + pd[i];
      });
      v->value = target;
      if (ctx->device()->capturing() &&
          Fake(ctx)->root().fail_assign_add_while_recording) {
        // After changing the variable's memory: the session must put it back.
        v->value =
            Tensor(DType::kFloat32, w.shape(), ctx->device()->allocator());
        return absl::InternalError("test: AssignAdd cannot be recorded");
      }
      ctx->set_output(0, target);
      return absl::OkStatus();
    });
    return true;
  }();
  (void)once;
}

std::shared_ptr<const DeviceSet> CpuAnd(FakeGpu* gpu) {
  std::vector<std::unique_ptr<Device>> d;
  d.push_back(
      std::make_unique<Device>(DeviceType::kCPU, 0, CpuDeviceContext::Get()));
  d.push_back(std::make_unique<Device>(DeviceType::kGPU, 0, gpu));
  return std::make_shared<const DeviceSet>(std::move(d));
}

// y = x * w * 1 on the device; then w += y * 0.5 (after y: it reads y)
// and, on the CPU, step += 1 (a host node of the same run).
struct Model {
  Graph g;
  Output x, y;
  Variable w, step;
  Operation train;
  std::unique_ptr<Session> session;
  std::vector<std::string> log;

  Model(FakeGpu* gpu, bool capture) {
    RegisterFakeGpuKernels();
    Scope root = Scope::Root(&g);
    Scope dev = root.WithDevice("/gpu:0");
    x = ops::Placeholder(root.WithOpName("x"), DType::kFloat32, TensorShape{4});
    w = NewVariable(dev,
                    Tensor::FromVector<float>({1, 2, 3, 4}, TensorShape{4}),
                    {.name = "w"});
    step = NewVariable(root.WithDevice("/cpu:0"), Tensor::Scalar<int64_t>(0),
                       {.name = "step"});
    // Four device kernels: the fewest a recording is made for.
    y = ops::Mul(dev.WithOpName("y"), ops::Mul(dev, x, w.value()), 1.0f);
    Output upd = ops::AssignAdd(dev, w, ops::Mul(dev, y, 0.5f));
    Output inc = ops::AssignAdd(root.WithDevice("/cpu:0"), step,
                                Tensor::Scalar<int64_t>(1));
    train = ops::Group(root, {upd.op(), inc.op()});
    EXPECT_TRUE(root.ok()) << root.status();
    SessionOptions so;
    so.devices = CpuAnd(gpu);
    so.capture_device_steps = capture;
    so.log_sink = [this](std::string_view l) { log.emplace_back(l); };
    session = std::make_unique<Session>(&g, so);
    EXPECT_TRUE(
        session->Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());
  }
  static Tensor Input(float scale) {
    return Tensor::FromVector<float>({scale, -scale, 0.5f * scale, 0.25f},
                                     TensorShape{4});
  }
  Tensor Step(float scale) { return StepOn(Input(scale)); }
  Tensor StepOn(const Tensor& xs) {
    std::vector<Tensor> out;
    absl::Status st = session->Run({{x, xs}}, {y}, {train}, &out);
    EXPECT_TRUE(st.ok()) << st;
    return st.ok() ? out[0] : Tensor();
  }
  std::vector<float> W() {
    std::vector<Tensor> out;
    EXPECT_TRUE(session->Run({}, {w.value()}, &out).ok());
    return std::vector<float>(out[0].flat<float>().begin(),
                              out[0].flat<float>().end());
  }
  int64_t Steps() { return *session->ReadVariable(step)->data<int64_t>(); }
};

std::vector<float> Values(const Tensor& t) {
  return std::vector<float>(t.flat<float>().begin(), t.flat<float>().end());
}

void ExpectStats(const CaptureStats& cs, int64_t captures, int64_t replays,
                 int64_t failures) {
  EXPECT_EQ(cs.captures, captures);
  EXPECT_EQ(cs.replays, replays);
  EXPECT_EQ(cs.failures, failures) << cs.last_failure;
}

void RunBoth(Model* captured, Model* eager, int steps, float first_scale) {
  for (int i = 0; i < steps; ++i) {
    const float scale = first_scale + 0.1f * i;
    EXPECT_EQ(Values(captured->Step(scale)), Values(eager->Step(scale)))
        << "step " << i;
  }
}

TEST(SessionCaptureTest, RecordedStepsReplayWhatOrdinaryRunsCompute) {
  FakeGpu gpu_a, gpu_b;
  Model captured(&gpu_a, true), eager(&gpu_b, false);
  RunBoth(&captured, &eager, 10, 0.3f);
  EXPECT_EQ(captured.W(), eager.W());
  EXPECT_EQ(captured.Steps(), 10);  // the host node ran at every step
  ExpectStats(captured.session->capture_stats(), 1, 8,
              0);  // 8: after two ordinary runs
  EXPECT_EQ(gpu_a.launches.load(), 8);
  EXPECT_EQ(eager.session->capture_stats().replays, 0);
}

TEST(SessionCaptureTest, AVariableWithNewMemoryIsRecordedAgain) {
  FakeGpu gpu_a, gpu_b;
  Model captured(&gpu_a, true), eager(&gpu_b, false);
  RunBoth(&captured, &eager, 6, 0.2f);
  const Tensor w = Tensor::FromVector<float>({-1, 0, 1, 2}, TensorShape{4});
  ASSERT_TRUE(captured.session->AssignVariable(captured.w, w).ok());
  ASSERT_TRUE(eager.session->AssignVariable(eager.w, w).ok());
  RunBoth(&captured, &eager, 6, 0.7f);
  EXPECT_EQ(captured.W(), eager.W());
  ExpectStats(captured.session->capture_stats(), 2, 4 + 4, 0);
}

TEST(SessionCaptureTest, AFailedRecordingAppliesTheStepOnceAndStopsCapture) {
  FakeGpu gpu_a, gpu_b;
  gpu_a.fail_assign_add_while_recording = true;
  Model captured(&gpu_a, true), eager(&gpu_b, false);
  RunBoth(&captured, &eager, 6, 0.4f);
  EXPECT_EQ(captured.W(), eager.W());
  EXPECT_EQ(captured.Steps(), 6);
  const CaptureStats cs = captured.session->capture_stats();
  ExpectStats(cs, 0, 0, 1);
  EXPECT_THAT(cs.last_failure, HasSubstr("AssignAdd cannot be recorded"));
  EXPECT_THAT(
      captured.log,
      testing::Contains(HasSubstr("step capture off for a run signature")));
}

TEST(SessionCaptureTest, ADeviceThatCannotRecordRunsEveryStepAsUsual) {
  FakeGpu gpu_a, gpu_b;
  gpu_a.refuse_captures = true;
  Model captured(&gpu_a, true), eager(&gpu_b, false);
  RunBoth(&captured, &eager, 5, 0.5f);
  EXPECT_EQ(captured.W(), eager.W());
  const CaptureStats cs = captured.session->capture_stats();
  ExpectStats(cs, 0, 0, 1);
  EXPECT_THAT(cs.last_failure, HasSubstr("refuses to record"));
}

TEST(SessionCaptureTest, APlanWhoseDeviceNodesReadAHostNodeIsNotRecorded) {
  RegisterFakeGpuKernels();
  FakeGpu gpu;
  Graph g;
  Scope root = Scope::Root(&g);
  Scope dev = root.WithDevice("/gpu:0");
  Output x =
      ops::Placeholder(root.WithOpName("x"), DType::kFloat32, TensorShape{2});
  Output host =
      ops::Add(root.WithDevice("/cpu:0").WithOpName("host_add"), x, 1.0f);
  Output y = x;
  for (int i = 0; i < 5; ++i)
    y = ops::Mul(dev, y, host);  // device nodes reading a host node
  ASSERT_TRUE(root.ok()) << root.status();
  std::vector<std::string> log;
  SessionOptions so;
  so.devices = CpuAnd(&gpu);
  so.capture_device_steps = true;
  so.log_sink = [&log](std::string_view l) { log.emplace_back(l); };
  Session s(&g, so);
  std::vector<Tensor> out;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(s.Run({{x, Tensor::FromVector<float>({1, 2}, TensorShape{2})}},
                      {y}, &out)
                    .ok());
  }
  EXPECT_EQ(Values(out[0]), (std::vector<float>{1 * 32, 2 * 243}));
  EXPECT_EQ(s.capture_stats().captures, 0);
  EXPECT_THAT(
      log,
      testing::Contains(HasSubstr(
          "host_add on /job:localhost/replica:0/task:0/device:CPU:0 feeds")));
}

TEST(SessionCaptureTest, HostFeedsAreCopiedIntoTheRecordingsInputSlot) {
  FakeGpu gpu_a, gpu_b;
  Model captured(&gpu_a, true), eager(&gpu_b, false);
  RunBoth(&captured, &eager, 6, 0.3f);
  // One copy per launch: a host batch has to reach the device.
  EXPECT_EQ(gpu_a.feed_copies.load(), 4);
  EXPECT_EQ(gpu_a.launches.load(), 4);
}

// Device tensors that are not staging slots change address from run to
// run: they are copied into the recording's input slot, one recording.
TEST(SessionCaptureTest, DeviceFeedsOutsideStagingSlotsAreCopied) {
  FakeGpu gpu_a, gpu_b;
  Model captured(&gpu_a, true), eager(&gpu_b, false);
  for (int i = 0; i < 6; ++i) {
    const float scale = 0.2f + 0.1f * i;
    auto on_device = gpu_a.CopyToDevice(Model::Input(scale));
    ASSERT_TRUE(on_device.ok());
    EXPECT_EQ(Values(captured.StepOn(*on_device)), Values(eager.Step(scale)));
  }
  ExpectStats(captured.session->capture_stats(), 1, 4, 0);
  EXPECT_EQ(gpu_a.feed_copies.load(), 4);
}

// The staging op: batches staged by the DevicePrefetcher in device memory
// are read in place by the recorded step, one recording per staging slot,
// and no launch copies its feed; the results are those of ordinary runs
// on host feeds.
TEST(SessionCaptureTest, StagedBatchesAreReadInPlaceWithoutAFeedCopy) {
  FakeGpu gpu_a, gpu_b;
  Model captured(&gpu_a, true), eager(&gpu_b, false);
  constexpr int kSteps = 14, kDepth = 3;
  auto next = std::make_shared<int>(0);
  BatchSource source = [next](const WaitOptions&) -> absl::StatusOr<TensorTuple> {
    const int i = (*next)++;
    if (i >= kSteps) return absl::OutOfRangeError("done");
    return TensorTuple{Model::Input(0.3f + 0.1f * i)};
  };
  DevicePrefetchOptions po;
  po.depth = kDepth;
  po.device = &gpu_a;
  auto prefetch = DevicePrefetcher::Create(source, po);
  ASSERT_TRUE(prefetch.ok()) << prefetch.status();
  std::set<const void*> slots;
  for (int i = 0; i < kSteps; ++i) {
    auto b = (*prefetch)->Next(WaitOptions::Timeout(absl::Seconds(30)));
    ASSERT_TRUE(b.ok()) << b.status();
    ASSERT_TRUE(b->on_device);
    ASSERT_TRUE(gpu_a.WaitFor(*b->ready).ok());
    slots.insert(b->tensors[0].raw_data());
    EXPECT_EQ(Values(captured.StepOn(b->tensors[0])),
              Values(eager.Step(0.3f + 0.1f * i)))
        << "step " << i;
    // The batch is dropped here: its slot goes back to the prefetcher.
  }
  EXPECT_EQ(captured.W(), eager.W());
  EXPECT_EQ(captured.Steps(), kSteps);
  EXPECT_EQ(slots.size(), static_cast<size_t>(kDepth));
  // Two ordinary runs, then one recording per slot, each launched in place.
  ExpectStats(captured.session->capture_stats(), kDepth, kSteps - 2, 0);
  EXPECT_EQ(gpu_a.launches.load(), kSteps - 2);
  EXPECT_EQ(gpu_a.feed_copies.load(), 0);
  prefetch->reset();
}

}  // namespace
}  // namespace sluice
