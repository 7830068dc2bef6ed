// The named-tensor encoding of a parameter server's state (the kGetState
// reply and kSetState request): what goes in comes out; truncated,
// padded or malformed bytes are InvalidArgument naming the offset, never
// a crash; string tensors are refused.
#include "distributed/internal/ps_state.h"

#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::distributed::internal {
namespace {

using ::testing::HasSubstr;

std::vector<std::pair<std::string, Tensor>> Sample() {
  Tensor w(DType::kFloat32, TensorShape{2, 3});
  for (int i = 0; i < 6; ++i) w.flat<float>()[i] = 0.5f * i - 1;
  return {{"layer/kernel/Adam", w},
          {"global_step", Tensor::Scalar<int64_t>(76)},
          {"empty", Tensor(DType::kFloat32, TensorShape{0, 4})}};
}

TEST(PsStateTest, RoundTripsNamesDtypesShapesAndBytes) {
  auto bytes = EncodeNamedTensors(Sample());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto back = DecodeNamedTensors(bytes->data(), bytes->size());
  ASSERT_TRUE(back.ok()) << back.status();
  const auto want = Sample();
  ASSERT_EQ(back->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ((*back)[i].first, want[i].first);
    const Tensor& a = (*back)[i].second;
    const Tensor& b = want[i].second;
    EXPECT_EQ(a.dtype(), b.dtype());
    EXPECT_EQ(a.shape(), b.shape());
    ASSERT_EQ(a.ByteSize(), b.ByteSize());
    if (a.ByteSize() > 0) {
      EXPECT_EQ(std::memcmp(a.raw_data(), b.raw_data(), a.ByteSize()), 0);
    }
  }
  EXPECT_EQ((*back)[1].second.scalar<int64_t>(), 76);
}

TEST(PsStateTest, EveryTruncationAndTrailingBytesAreInvalidArgument) {
  auto bytes = EncodeNamedTensors(Sample());
  ASSERT_TRUE(bytes.ok());
  for (size_t n = 0; n < bytes->size(); ++n) {
    auto r = DecodeNamedTensors(bytes->data(), n);
    ASSERT_FALSE(r.ok()) << "decoded " << n << " of " << bytes->size()
                         << " bytes";
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("offset"));
  }
  std::vector<char> longer = *bytes;
  longer.push_back(0);
  auto r = DecodeNamedTensors(longer.data(), longer.size());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("bytes after the last tensor"));
}

TEST(PsStateTest, MalformedFieldsAreNamed) {
  auto bytes = EncodeNamedTensors({{"w", Tensor::Scalar<float>(1)}});
  ASSERT_TRUE(bytes.ok());
  // Layout: count(8) name length(8) "w"(1) dtype(4) rank(4) bytes(8) data(4).
  std::vector<char> b = *bytes;
  const int32_t bad_dtype = 99;
  std::memcpy(b.data() + 17, &bad_dtype, 4);
  auto r = DecodeNamedTensors(b.data(), b.size());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("'w': dtype 99"));
  b = *bytes;
  const int64_t wrong_size = 8;
  std::memcpy(b.data() + 25, &wrong_size, 8);
  r = DecodeNamedTensors(b.data(), b.size());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("8 bytes for 1 elements of float"));
}

TEST(PsStateTest, StringTensorsAreRefused) {
  Tensor s(DType::kString, TensorShape{1});
  auto r = EncodeNamedTensors({{"names", s}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("'names'"));
}

}  // namespace
}  // namespace sluice::distributed::internal
