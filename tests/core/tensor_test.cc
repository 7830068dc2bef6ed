#include "core/tensor.h"

#include <string>

#include "gtest/gtest.h"

namespace sluice {
namespace {

TEST(TensorShapeTest, UnknownDimsAndCompatibility) {
  TensorShape s{-1, 784};
  EXPECT_FALSE(s.IsFullyDefined());
  EXPECT_EQ(s.DebugString(), "[?,784]");
  EXPECT_TRUE(s.IsCompatibleWith(TensorShape{128, 784}));
  EXPECT_FALSE(s.IsCompatibleWith(TensorShape{128, 783}));
  EXPECT_FALSE(s.IsCompatibleWith(TensorShape{784}));
  EXPECT_EQ(TensorShape{}.num_elements(), 1);
  EXPECT_EQ(TensorShape({2, 3}).Prepended(5), TensorShape({5, 2, 3}));
  EXPECT_EQ(TensorShape({5, 2, 3}).DroppedFirst(), TensorShape({2, 3}));
}

TEST(TensorTest, CopyIsAHandleToTheSameBytes) {
  Tensor a = Tensor::FromVector<int64_t>({1, 2, 3, 4}, {2, 2});
  Tensor b = a;
  EXPECT_TRUE(a.SharesBufferWith(b));
  b.data<int64_t>()[0] = 42;
  EXPECT_EQ(a.data<int64_t>()[0], 42);
  EXPECT_EQ(a.buffer()->ref_count(), 2);
}

TEST(TensorTest, SliceAndRowAreViews) {
  Tensor a = Tensor::FromVector<int32_t>({0, 1, 2, 3, 4, 5}, {3, 2});
  Tensor s = a.Slice(1, 3);
  EXPECT_EQ(s.shape(), TensorShape({2, 2}));
  EXPECT_EQ(s.data<int32_t>()[0], 2);
  Tensor r = a.Row(2);
  EXPECT_EQ(r.shape(), TensorShape({2}));
  EXPECT_EQ(r.data<int32_t>()[1], 5);
  EXPECT_TRUE(r.SharesBufferWith(a));
}

TEST(TensorTest, StringViewsKeepTheirOwnerAlive) {
  Tensor chunk_holder;
  Tensor strings(DType::kString, TensorShape{2});
  {
    // A "record chunk": bytes owned by another buffer.
    Tensor chunk = Tensor::FromVector<uint8_t>({'h', 'e', 'l', 'l', 'o'}, {5});
    std::string_view view(chunk.data<char>(), 5);
    strings.SetStringView(0, view.substr(0, 4), chunk.buffer());
    strings.SetString(1, "copied");
    EXPECT_EQ(chunk.buffer()->ref_count(), 2);
  }
  EXPECT_EQ(strings.string(0), "hell");
  EXPECT_EQ(strings.string(1), "copied");
  EXPECT_EQ(strings.PayloadBytes(), 10u);
}

TEST(TensorTest, CopyRowsOfStringsSharesOwnership) {
  Tensor dst(DType::kString, TensorShape{2});
  {
    Tensor src = Tensor::FromStrings({"a", "bb", "ccc"}, {3});
    Tensor::CopyRows(src, 1, &dst, 0, 2);
  }
  EXPECT_EQ(dst.string(0), "bb");
  EXPECT_EQ(dst.string(1), "ccc");
}

TEST(TensorTest, LargeStringsGoToTheirOwnArenaBlock) {
  Tensor t(DType::kString, TensorShape{3});
  std::string big(600000, 'x');
  t.SetString(0, "small");
  t.SetString(1, big);
  t.SetString(2, "after");
  EXPECT_EQ(t.string(0), "small");
  EXPECT_EQ(t.string(1), big);
  EXPECT_EQ(t.string(2), "after");
}

TEST(TensorTest, DeepCopyIsIndependent) {
  Tensor a = Tensor::FromVector<float>({1.5f, 2.5f}, {2});
  Tensor b = a.DeepCopy();
  b.data<float>()[0] = 0;
  EXPECT_EQ(a.data<float>()[0], 1.5f);
  EXPECT_FALSE(a.ContentEquals(b));
  EXPECT_EQ(a.DebugString(), "float [2] {1.5, 2.5}");
}

TEST(TensorTest, ZerosZeroesEveryDtype) {
  Tensor b = Tensor::Zeros(DType::kBool, {3});
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(b.data<bool>()[i]);
  Tensor s = Tensor::Zeros(DType::kString, {2});
  EXPECT_EQ(s.string(1), "");
}

}  // namespace
}  // namespace sluice
