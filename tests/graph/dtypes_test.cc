// The int8, uint16 and float16 dtypes: binary16 conversion (exhaustive
// round trip, TensorFlow/IEEE rounding checked against numpy's float16 via
// /usr/bin/python3), and the kernels where they are natural: Cast, the
// element-wise ops, AddN, reshape/concat/stack/gather by copies.
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "core/half.h"
#include "graph/ops/ops.h"
#include "graph/session.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;

TEST(HalfTest, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t b = 0; b <= 0xffff; ++b) {
    const Half h{static_cast<uint16_t>(b)};
    const float f = HalfToFloat(h);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(f)))) << b;
      continue;
    }
    EXPECT_EQ(FloatToHalf(f).bits, h.bits) << "bits " << b << " float " << f;
  }
  EXPECT_EQ(FloatToHalf(1.0f).bits, 0x3c00);
  EXPECT_EQ(FloatToHalf(65504.0f).bits, 0x7bff);
  EXPECT_EQ(FloatToHalf(65520.0f).bits, 0x7c00);  // rounds to infinity
  EXPECT_EQ(FloatToHalf(-std::numeric_limits<float>::infinity()).bits, 0xfc00);
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -24)).bits, 0x0001);
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -26)).bits, 0x0000);
}

TEST(HalfTest, RoundingMatchesNumpy) {
  std::mt19937 rng(7);
  std::vector<float> v;
  std::uniform_real_distribution<float> mant(-1.0f, 1.0f);
  std::uniform_int_distribution<int> exp(-28, 17);
  for (int i = 0; i < 3000; ++i) v.push_back(std::ldexp(mant(rng), exp(rng)));
  // Exact ties between neighbouring halves, both parities.
  for (int m = 0; m < 40; ++m)
    v.push_back(1.0f + (2 * m + 1) * std::ldexp(1.0f, -11));
  std::ostringstream args;
  args.precision(9);
  for (float f : v) args << f << ' ';
  const std::string cmd =
      "/usr/bin/python3 -c \"import sys, numpy as np\n"
      "a = np.array([float(x) for x in sys.stdin.read().split()], "
      "dtype=np.float32).astype(np.float16)\n"
      "print(' '.join(str(int(x)) for x in a.view(np.uint16)))\" <<'EOF'\n" +
      args.str() + "\nEOF";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) text.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << text;
  std::istringstream in(text);
  std::istringstream again(args.str());
  for (size_t i = 0; i < v.size(); ++i) {
    int want = -1;
    float f;
    in >> want;
    again >> f;  // the float exactly as numpy parsed it
    EXPECT_EQ(FloatToHalf(f).bits, want) << "float " << f;
  }
}

template <typename T>
std::vector<T> V(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.NumElements());
}

TEST(DTypesTest, KernelsOnInt8Uint16AndHalf) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output f = ops::Const(root, {1.5f, -2.25f, 300.0f, 0.1f});
  Output i8 = ops::Cast(root, ops::Const(root, {1, -2, 100, 27}), DType::kInt8);
  Output u16 =
      ops::Cast(root, ops::Const(root, {1, 2, 60000, 7}), DType::kUInt16);
  Output h = ops::Cast(root, f, DType::kFloat16);
  EXPECT_EQ(h.dtype(), DType::kFloat16);
  Output i8_sum = ops::Add(root, i8, i8);  // 100 + 100 wraps as int8
  Output u16_prod = ops::Mul(root, u16, ops::Cast(root, 2, DType::kUInt16));
  Output h_sum = ops::Add(root, h, h);
  Output h_less = ops::Less(root, h, ops::Cast(root, 1.0f, DType::kFloat16));
  Output h_sqrt = ops::Sqrt(root, ops::Abs(root, h));
  Output h_addn = ops::AddN(root, {h, h, h});
  Output back = ops::Cast(root, h_sum, DType::kFloat32);
  Output stacked = ops::Stack(root, {i8, i8});
  Output cat = ops::Concat(root, {h, h}, 0);
  Output gathered = ops::Gather(root, u16, {2, 0});
  Output reshaped = ops::Reshape(root, h, {2, 2});
  ASSERT_TRUE(root.ok()) << root.status();
  Session sess(&g);
  std::vector<Tensor> out;
  ASSERT_TRUE(sess.Run({},
                       {i8_sum, u16_prod, back, h_less, h_sqrt, h_addn, stacked,
                        cat, gathered, reshaped, i8},
                       &out)
                  .ok());
  EXPECT_THAT(V<int8_t>(out[0]), ElementsAre(2, -4, -56, 54));
  EXPECT_THAT(V<uint16_t>(out[1]),
              ElementsAre(2, 4, 54464, 14));  // 120000 mod 65536
  // 0.1 is not a half: 0.0999755859375 doubled.
  EXPECT_THAT(V<float>(out[2]),
              ElementsAre(3.0f, -4.5f, 600.0f, 0.199951171875f));
  EXPECT_THAT(V<bool>(out[3]), ElementsAre(false, true, false, true));
  EXPECT_EQ(out[4].dtype(), DType::kFloat16);
  EXPECT_EQ(HalfToFloat(out[4].data<Half>()[1]), 1.5f);
  EXPECT_EQ(HalfToFloat(out[5].data<Half>()[0]), 4.5f);
  EXPECT_EQ(out[6].shape(), TensorShape({2, 4}));
  EXPECT_THAT(V<int8_t>(out[6]), ElementsAre(1, -2, 100, 27, 1, -2, 100, 27));
  EXPECT_EQ(out[7].shape(), TensorShape({8}));
  EXPECT_EQ(HalfToFloat(out[7].data<Half>()[6]), 300.0f);
  EXPECT_THAT(V<uint16_t>(out[8]), ElementsAre(60000, 1));
  EXPECT_EQ(out[9].shape(), TensorShape({2, 2}));
  EXPECT_EQ(out[10].DebugString(), "int8 [4] {1, -2, 100, 27}");
  EXPECT_EQ(DTypeName(DType::kFloat16), "half");
}

}  // namespace
}  // namespace sluice
