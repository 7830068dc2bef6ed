#include "readers/decode_raw.h"

#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(DecodeRawTest, Uint8AddsALastDimension) {
  Tensor in = Tensor::FromStrings({std::string("\x01\x02\x03", 3), std::string("\xff\x00\x07", 3)},
                                  TensorShape{2});
  auto out = DecodeRaw(in, DType::kUInt8);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->shape(), (TensorShape{2, 3}));
  std::vector<uint8_t> v(out->data<uint8_t>(), out->data<uint8_t>() + 6);
  EXPECT_THAT(v, ElementsAre(1, 2, 3, 255, 0, 7));
}

TEST(DecodeRawTest, LittleAndBigEndianInt32) {
  Tensor in = Tensor::StringScalar(std::string("\x01\x00\x00\x00\x00\x00\x01\x00", 8));
  auto le = DecodeRaw(in, DType::kInt32, /*little_endian=*/true);
  auto be = DecodeRaw(in, DType::kInt32, /*little_endian=*/false);
  ASSERT_TRUE(le.ok() && be.ok());
  EXPECT_EQ(le->shape(), (TensorShape{2}));
  EXPECT_THAT(std::vector<int32_t>(le->data<int32_t>(), le->data<int32_t>() + 2),
              ElementsAre(1, 65536));
  EXPECT_THAT(std::vector<int32_t>(be->data<int32_t>(), be->data<int32_t>() + 2),
              ElementsAre(16777216, 256));
}

TEST(DecodeRawTest, FloatAndDoubleRoundTrip) {
  float f[2] = {1.5f, -0.25f};
  double d = 3.25;
  Tensor fin = Tensor::StringScalar(std::string_view(reinterpret_cast<char*>(f), 8));
  Tensor din = Tensor::StringScalar(std::string_view(reinterpret_cast<char*>(&d), 8));
  auto fo = DecodeRaw(fin, DType::kFloat32);
  auto dout = DecodeRaw(din, DType::kFloat64);
  ASSERT_TRUE(fo.ok() && dout.ok());
  EXPECT_EQ(fo->data<float>()[1], -0.25f);
  EXPECT_EQ(dout->data<double>()[0], 3.25);
}

TEST(DecodeRawTest, LengthNotAMultipleIsInvalidArgument) {
  auto out = DecodeRaw(Tensor::StringScalar("abcde"), DType::kInt32);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("not a multiple of 4"));
}

TEST(DecodeRawTest, DifferentLengthsAreInvalidArgument) {
  Tensor in = Tensor::FromStrings({"ab", "abcd"}, TensorShape{2});
  auto out = DecodeRaw(in, DType::kUInt8);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("element 1"));
}

TEST(DecodeRawTest, RejectsStringOutputAndNumericInput) {
  EXPECT_FALSE(DecodeRaw(Tensor::StringScalar("ab"), DType::kString).ok());
  EXPECT_FALSE(DecodeRaw(Tensor::Scalar<int32_t>(1), DType::kUInt8).ok());
}

TEST(DecodeRawTest, EmptyBatchAndEmptyStrings) {
  auto empty_batch = DecodeRaw(Tensor(DType::kString, TensorShape{0}), DType::kFloat32);
  ASSERT_TRUE(empty_batch.ok());
  EXPECT_EQ(empty_batch->shape(), (TensorShape{0, 0}));
  auto empty_strings = DecodeRaw(Tensor::FromStrings({"", ""}, TensorShape{2}), DType::kInt64);
  ASSERT_TRUE(empty_strings.ok());
  EXPECT_EQ(empty_strings->shape(), (TensorShape{2, 0}));
}

TEST(DecodeRawTest, BoolMapsNonZeroBytesToTrue) {
  auto out = DecodeRaw(Tensor::StringScalar(std::string("\x00\x05\x01", 3)), DType::kBool);
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(std::vector<bool>(out->data<bool>(), out->data<bool>() + 3),
              ElementsAre(false, true, true));
}

TEST(DecodeRawTest, IntoCallerMemory) {
  int64_t out[1];
  ASSERT_TRUE(DecodeRawInto(std::string("\x00\x00\x00\x00\x00\x00\x00\x80", 8), DType::kInt64,
                            true, out)
                  .ok());
  EXPECT_EQ(out[0], INT64_MIN);
}

}  // namespace
}  // namespace sluice
