#include "core/crc32c.h"

#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "core/random.h"

namespace sluice::crc32c {
namespace {

std::vector<Impl> AvailableImpls() {
  std::vector<Impl> impls;
  for (Impl impl : {Impl::kSoftware, Impl::kSse42OneStream, Impl::kSse42ThreeStreams,
                    Impl::kIsal}) {
    if (ImplAvailable(impl)) impls.push_back(impl);
  }
  return impls;
}

// RFC 3720 section B.4 test vectors, checked with every implementation.
TEST(Crc32cTest, Rfc3720VectorsMatchForEveryImplementation) {
  char buf[48];
  for (Impl impl : AvailableImpls()) {
    SCOPED_TRACE(ImplName(impl));
    std::memset(buf, 0, 32);
    EXPECT_EQ(0x8a9136aau, ExtendWith(impl, 0, buf, 32));
    std::memset(buf, 0xff, 32);
    EXPECT_EQ(0x62a8ab43u, ExtendWith(impl, 0, buf, 32));
    for (int i = 0; i < 32; ++i) buf[i] = static_cast<char>(i);
    EXPECT_EQ(0x46dd794eu, ExtendWith(impl, 0, buf, 32));
    for (int i = 0; i < 32; ++i) buf[i] = static_cast<char>(31 - i);
    EXPECT_EQ(0x113fdb5cu, ExtendWith(impl, 0, buf, 32));
    const unsigned char iscsi_read[48] = {
        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    EXPECT_EQ(0xd9963a56u,
              ExtendWith(impl, 0, reinterpret_cast<const char*>(iscsi_read), 48));
    EXPECT_EQ(0xe3069283u, ExtendWith(impl, 0, "123456789", 9));
  }
}

TEST(Crc32cTest, ActiveImplementationIsAvailableAndNamed) {
  EXPECT_TRUE(ImplAvailable(ActiveImpl()));
  EXPECT_TRUE(ImplAvailable(Impl::kSoftware));
  EXPECT_NE(std::string("?"), ImplName(ActiveImpl()));
  if (HardwareAvailable()) {
    EXPECT_NE(Impl::kSoftware, ActiveImpl());
  }
}

TEST(Crc32cTest, ValueOfEmptyIsZero) { EXPECT_EQ(0u, Value("", 0)); }

TEST(Crc32cTest, ExtendEqualsValueOfConcatenation) {
  EXPECT_EQ(Value("hello world", 11), Extend(Value("hello ", 6), "world", 5));
}

// Beam's tfrecordio_test.py test_masked_crc32c vectors.
TEST(Crc32cTest, MaskedValuesMatchBeamVectors) {
  std::string zeros(32, '\0'), ones(32, '\xff');
  EXPECT_EQ(0x0fd7fffau, Mask(Value(zeros)));
  EXPECT_EQ(0xf909b029u, Mask(Value(ones)));
  EXPECT_EQ(0xfebe8a61u, Mask(Value("foo")));
  EXPECT_EQ(0x0e4999b0u, Mask(Value(std::string("\x03\0\0\0\0\0\0\0", 8))));
}

TEST(Crc32cTest, MaskIsNotIdentityAndUnmaskInvertsIt) {
  uint32_t crc = Value("foo", 3);
  EXPECT_NE(crc, Mask(crc));
  EXPECT_NE(crc, Mask(Mask(crc)));
  EXPECT_EQ(crc, Unmask(Mask(crc)));
  EXPECT_EQ(crc, Unmask(Unmask(Mask(Mask(crc)))));
}

// Lengths straddle the 3x256 and 3x8192 block thresholds of the three-stream
// path, ISA-L's 256-byte threshold and its 16/64/256-byte folding steps
// (826: an MNIST-like TFRecord payload), and offsets exercise every
// alignment.
TEST(Crc32cTest, AllImplementationsAgreeOnRandomBuffersOfEverySizeAndAlignment) {
  Random rng(42);
  std::string data(3 * 8192 * 2 + 64, '\0');
  for (char& c : data) c = static_cast<char>(rng.Uniform(256));
  const std::vector<size_t> sizes = {0,   1,    2,    3,    4,     5,     6,     7,
                                     8,   9,    12,   15,   16,    17,    63,    64,
                                     65,  255,  256,  257,  319,   320,   511,   512,
                                     767, 768,  769,  826,  1000,  4096,  24575, 24576,
                                     24577, 30000, 3 * 8192 * 2};
  for (size_t size : sizes) {
    for (size_t offset = 0; offset < 8; ++offset) {
      uint32_t expected = ExtendWith(Impl::kSoftware, 0, data.data() + offset, size);
      for (Impl impl : AvailableImpls()) {
        ASSERT_EQ(expected, ExtendWith(impl, 0, data.data() + offset, size))
            << ImplName(impl) << " size " << size << " offset " << offset;
      }
      ASSERT_EQ(expected, Value(data.data() + offset, size));
    }
  }
}

TEST(Crc32cTest, ExtendInPiecesMatchesWholeForEveryImplementation) {
  Random rng(7);
  std::string data(50000, '\0');
  for (char& c : data) c = static_cast<char>(rng.Uniform(256));
  uint32_t whole = ExtendWith(Impl::kSoftware, 0, data.data(), data.size());
  for (Impl impl : AvailableImpls()) {
    uint32_t crc = 0;
    size_t pos = 0;
    size_t step = 1;
    while (pos < data.size()) {
      size_t n = std::min(step, data.size() - pos);
      crc = ExtendWith(impl, crc, data.data() + pos, n);
      pos += n;
      step = step * 3 + 1;
    }
    EXPECT_EQ(whole, crc) << ImplName(impl);
  }
}

}  // namespace
}  // namespace sluice::crc32c
