// On a host with two or more GPUs: a training process's devices
// (train::TrainingDeviceSet for the last GPU) make a CUDA primary context
// on that GPU alone, even after a session runs a MatMul there and a fresh
// thread allocates page-locked memory, copies it to the GPU and waits
// (what the input pipeline's threads do). The driver's
// cuDevicePrimaryCtxGetState (dlopened: the binary starts without a
// driver) says which contexts exist. Its own binary:
// contexts are per process, and any other test would make some. Skips
// with fewer than two GPUs.
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include <cuda.h>
#include <dlfcn.h>
#include <gtest/gtest.h>

#include "device/device_registry.h"
#include "graph/cuda/gpu_device.h"
#include "graph/ops/ops.h"
#include "graph/session.h"
#include "train/trainer.h"

namespace sluice {
namespace {

// The driver's entry points this test needs (null without libcuda).
struct Driver {
  CUresult (*init)(unsigned int) = nullptr;
  CUresult (*device_get)(CUdevice*, int) = nullptr;
  CUresult (*primary_state)(CUdevice, unsigned int*, int*) = nullptr;
  static Driver Load() {
    Driver d;
    void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) return d;
    d.init = reinterpret_cast<decltype(d.init)>(dlsym(lib, "cuInit"));
    d.device_get =
        reinterpret_cast<decltype(d.device_get)>(dlsym(lib, "cuDeviceGet"));
    d.primary_state = reinterpret_cast<decltype(d.primary_state)>(
        dlsym(lib, "cuDevicePrimaryCtxGetState"));
    return d;
  }
  bool ok() const { return init && device_get && primary_state; }
  // Whether GPU `ordinal` has an active primary context in this process.
  bool ContextActive(int ordinal) const {
    CUdevice dev;
    unsigned int flags = 0;
    int active = 0;
    EXPECT_EQ(device_get(&dev, ordinal), CUDA_SUCCESS);
    EXPECT_EQ(primary_state(dev, &flags, &active), CUDA_SUCCESS);
    return active != 0;
  }
};

TEST(VisibleDevicesGpuTest, ARankOnTheLastGpuMakesNoContextOnTheOthers) {
  const int n = GpuDeviceCount();
  if (n < 2) GTEST_SKIP() << "needs 2 GPUs (this host has " << n << ")";
  const Driver driver = Driver::Load();
  ASSERT_TRUE(driver.ok()) << "libcuda.so.1 or its entry points missing";
  ASSERT_EQ(driver.init(0), CUDA_SUCCESS);
  for (int i = 0; i < n; ++i)
    ASSERT_FALSE(driver.ContextActive(i)) << "GPU " << i << " before setup";
  ASSERT_TRUE(RegisterGpuKernels().ok());
  const int mine = n - 1;
  absl::StatusOr<std::shared_ptr<const DeviceSet>> devices =
      train::TrainingDeviceSet(mine);
  ASSERT_TRUE(devices.ok()) << devices.status();

  Graph g;
  Scope root = Scope::Root(&g);
  Output a = ops::Placeholder(root.WithOpName("a"), DType::kFloat32,
                              TensorShape{64, 64});
  Output y = ops::MatMul(
      root.WithDevice(absl::StrCat("/gpu:", mine)).WithOpName("y"), a, a);
  ASSERT_TRUE(root.ok()) << root.status();
  SessionOptions so;
  so.devices = *devices;
  Session s(&g, so);
  Tensor in(DType::kFloat32, TensorShape{64, 64});
  for (float& v : in.flat<float>()) v = 1.f;
  std::vector<Tensor> out;
  ASSERT_TRUE(s.Run({{a, in}}, {y}, &out).ok());
  EXPECT_EQ(out[0].flat<float>()[0], 64.f);

  // A fresh thread (current device 0) staging a batch in pinned memory.
  DeviceContext* gpu = (*devices)->devices()[1]->context();
  absl::Status copied;
  std::thread([&] {
    Tensor pinned(DType::kFloat32, TensorShape{1 << 16}, PinnedHostAllocator());
    if (!pinned.IsInitialized()) {
      copied = absl::ResourceExhaustedError("no pinned memory");
      return;
    }
    absl::StatusOr<Tensor> d = gpu->CopyToDevice(pinned);
    copied = d.ok() ? gpu->Sync() : d.status();
  }).join();
  EXPECT_TRUE(copied.ok()) << copied;

  EXPECT_TRUE(driver.ContextActive(mine));
  for (int i = 0; i < mine; ++i)
    EXPECT_FALSE(driver.ContextActive(i)) << "GPU " << i;
}

}  // namespace
}  // namespace sluice
