// DecodeJpeg keeps one TurboJPEG decompressor per thread, and libjpeg keeps
// the tables of earlier images for abbreviated streams. A stream that
// leaves out a Huffman table it uses must still decode as a fresh decoder
// decodes it (a sequential scan gets libjpeg's standard table for DC/AC
// tables 0 and 1; a progressive one is refused), not with the table of
// the image decoded before it on the same thread.
//
// The streams are real JPEGs of tests/testdata/images with byte surgery:
// baseline_420.jpg (written with libjpeg's standard Huffman tables, one
// DHT segment per table) without its chroma AC or DC table, with its
// chroma AC table renumbered to an id no scan uses, without any DHT;
// progressive_rgb.jpg (optimized tables, a DHT segment before each scan)
// without the DHT segment one of its scans uses (defined again only after
// that scan); and a sequential stream of one scan per component written by
// libjpeg (standard tables, the chroma DHTs between the first and the
// second scan), whole and without its chroma tables. Each is decoded right
// after progressive_rgb.jpg (whose optimized tables then sit in the
// handle) and other real JPEGs, and must equal a decode on a new thread (a
// fresh handle) and the fused libjpeg window decode (a fresh libjpeg
// struct per call), pixels or refusal.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include <gtest/gtest.h>
#include "../support/libjpeg_encode.h"
#include "../support/test_images.h"
#include "image/jpeg.h"

namespace sluice::image {
namespace {

using ::sluice::test_support::ReadImage;

// Offsets of the DHT markers. 0xFF 0xC4 cannot occur inside entropy-coded
// data (a data 0xFF is followed by 0x00); the test files carry no APP
// payload that holds it.
std::vector<size_t> DhtSegments(const std::string& jpeg) {
  std::vector<size_t> at;
  for (size_t i = jpeg.find("\xFF\xC4"); i != std::string::npos;
       i = jpeg.find("\xFF\xC4", i + 2)) {
    at.push_back(i);
  }
  return at;
}

size_t SegmentSize(const std::string& jpeg, size_t at) {
  return 2 + ((static_cast<uint8_t>(jpeg[at + 2]) << 8) |
              static_cast<uint8_t>(jpeg[at + 3]));
}

// `jpeg` without its DHT segments whose (first) table is Tc:Th `table`.
std::string WithoutTable(const std::string& jpeg, uint8_t table) {
  std::string out = jpeg;
  std::vector<size_t> at = DhtSegments(jpeg);
  for (auto it = at.rbegin(); it != at.rend(); ++it) {
    if (static_cast<uint8_t>(jpeg[*it + 4]) == table)
      out.erase(*it, SegmentSize(jpeg, *it));
  }
  return out;
}

std::string Describe(const absl::StatusOr<Tensor>& t) {
  return t.ok() ? t->DebugString(0) : t.status().ToString();
}

// libjpeg's own text at the end of an error message.
std::string LibjpegText(const absl::Status& s) {
  const std::string m(s.message());
  const size_t colon = m.rfind(": ");
  return colon == std::string::npos ? m : m.substr(colon + 2);
}

// "" when both refused with the same code and libjpeg text, or both decoded
// to equal pixels.
std::string Difference(const absl::StatusOr<Tensor>& want,
                       const absl::StatusOr<Tensor>& got) {
  if (!want.ok() || !got.ok()) {
    if (!want.ok() && !got.ok() &&
        want.status().code() == got.status().code() &&
        LibjpegText(want.status()) == LibjpegText(got.status())) {
      return "";
    }
    return absl::StrCat("want ", Describe(want), ", got ", Describe(got));
  }
  if (want->shape() != got->shape() ||
      std::memcmp(want->data<uint8_t>(), got->data<uint8_t>(),
                  static_cast<size_t>(want->NumElements())) != 0) {
    return absl::StrCat("pixels differ: want ", want->DebugString(8), ", got ",
                        got->DebugString(8));
  }
  return "";
}

// DecodeJpeg on a new thread: a fresh TurboJPEG handle.
absl::StatusOr<Tensor> FreshDecode(const std::string& jpeg) {
  std::future<absl::StatusOr<Tensor>> f =
      std::async(std::launch::async, [&jpeg] { return DecodeJpeg(jpeg); });
  if (f.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    ADD_FAILURE() << "a decode on a new thread took over 60 s";
    std::abort();  // the future's destructor would wait for it
  }
  return f.get();
}

// `rgb` (uint8 [H, W, 3]) as a sequential JPEG of three scans, one
// component each, by libjpeg with its standard Huffman tables: libjpeg
// writes a table's DHT just before the first scan that uses it, so the
// chroma tables come between the luma and the Cb scan. libjpeg's default
// error handler exits, which fails the test.
std::string EncodeOneScanPerComponent(const Tensor& rgb) {
  return test_support::EncodeWithLibjpeg(rgb, [](jpeg_compress_struct& c) {
    static jpeg_scan_info scans[3];
    for (int i = 0; i < 3; ++i) {
      scans[i] = {};
      scans[i].comps_in_scan = 1;
      scans[i].component_index[0] = i;
      scans[i].Ss = 0;
      scans[i].Se = 63;
    }
    c.scan_info = scans;
    c.num_scans = 3;
  });
}

// The number of SOS markers (0xFF 0xDA never occurs in entropy-coded data).
int Scans(const std::string& jpeg) {
  int n = 0;
  for (size_t i = jpeg.find("\xFF\xDA"); i != std::string::npos;
       i = jpeg.find("\xFF\xDA", i + 2)) {
    ++n;
  }
  return n;
}

struct Variant {
  std::string name, bytes;
};

std::vector<Variant> Variants() {
  const std::string base = ReadImage("baseline_420.jpg");
  const std::string prog = ReadImage("progressive_rgb.jpg");
  std::vector<Variant> v;
  v.push_back({"baseline without chroma AC table", WithoutTable(base, 0x11)});
  v.push_back({"baseline without chroma DC table", WithoutTable(base, 0x01)});
  std::string renumbered = base;
  for (size_t at : DhtSegments(base)) {
    if (static_cast<uint8_t>(base[at + 4]) == 0x11) renumbered[at + 4] = 0x12;
  }
  v.push_back({"baseline chroma AC table defined as AC 2", renumbered});
  std::string none = base;
  for (uint8_t t : {0x00, 0x01, 0x10, 0x11}) none = WithoutTable(none, t);
  v.push_back({"baseline without DHT", none});
  // progressive_rgb.jpg: DHT DC0, scan, DHT DC1, scan, DHT DC1, scan, DHT
  // AC0, scan, DHT AC0, scan, DHT AC1, scan (Cb AC), DHT AC1, scan (Cr AC).
  const std::vector<size_t> dht = DhtSegments(prog);
  if (dht.size() == 7) {
    std::string cb = prog;
    cb.erase(dht[5], SegmentSize(prog, dht[5]));
    v.push_back({"progressive Cb AC scan before its table", cb});
    std::string dc = prog;
    dc.erase(dht[0], SegmentSize(prog, dht[0]));
    v.push_back({"progressive luma DC scan without its table", dc});
  }
  absl::StatusOr<Tensor> pixels = DecodeJpeg(base);
  if (pixels.ok()) {
    const std::string multi = EncodeOneScanPerComponent(*pixels);
    v.push_back({"multi-scan baseline", multi});
    v.push_back({"multi-scan baseline without chroma tables",
                 WithoutTable(WithoutTable(multi, 0x01), 0x11)});
  }
  return v;
}

TEST(JpegTablesTest, TheVariantsAreWhatTheTestMeans) {
  const std::string base = ReadImage("baseline_420.jpg");
  const std::string prog = ReadImage("progressive_rgb.jpg");
  ASSERT_EQ(DhtSegments(base).size(), 4u);
  ASSERT_EQ(DhtSegments(prog).size(), 7u);
  EXPECT_EQ(static_cast<uint8_t>(prog[DhtSegments(prog)[5] + 4]), 0x11);
  EXPECT_EQ(static_cast<uint8_t>(prog[DhtSegments(prog)[0] + 4]), 0x00);
  const std::vector<Variant> variants = Variants();
  ASSERT_EQ(variants.size(), 8u);
  for (const Variant& v : variants) {
    EXPECT_NE(v.bytes, base) << v.name;
    EXPECT_NE(v.bytes, prog) << v.name;
  }
  // baseline_420.jpg uses the standard tables, so a fresh decoder, which
  // substitutes them, decodes its abbreviated forms to the same pixels.
  absl::StatusOr<Tensor> want = FreshDecode(base);
  ASSERT_TRUE(want.ok()) << want.status();
  for (const Variant& v : variants) {
    if (v.name.rfind("baseline", 0) != 0) continue;
    EXPECT_EQ(Difference(want, FreshDecode(v.bytes)), "") << v.name;
  }
  // The multi-scan stream: three scans, the chroma tables defined between
  // the first and the second; without them its scans 2 and 3 get the
  // standard tables it was written with.
  const std::string& multi = variants[6].bytes;
  EXPECT_EQ(Scans(multi), 3);
  const std::vector<size_t> dht = DhtSegments(multi);
  ASSERT_EQ(dht.size(), 4u);
  EXPECT_LT(dht[1], multi.find("\xFF\xDA"));
  EXPECT_GT(dht[2], multi.find("\xFF\xDA"));
  EXPECT_EQ(DhtSegments(variants[7].bytes).size(), 2u);
  want = FreshDecode(multi);
  ASSERT_TRUE(want.ok()) << want.status();
  EXPECT_EQ(Difference(want, FreshDecode(variants[7].bytes)), "");
}

TEST(JpegTablesTest, AbbreviatedStreamsDecodeAsOnAFreshDecoder) {
  const std::vector<std::string> priors = {
      "progressive_rgb.jpg", "baseline_444.jpg", "gray.jpg", "cmyk.jpg"};
  for (const Variant& v : Variants()) {
    const absl::StatusOr<Tensor> want = FreshDecode(v.bytes);
    for (const std::string& prior : priors) {
      SCOPED_TRACE(absl::StrCat(v.name, " after ", prior));
      const std::string before = ReadImage(prior);
      ASSERT_TRUE(DecodeJpeg(before).ok());
      EXPECT_EQ(Difference(want, DecodeJpeg(v.bytes)), "");
      // The fused window decode, over the whole image.
      ASSERT_TRUE(DecodeJpeg(before).ok());
      absl::StatusOr<JpegHeader> hdr = ReadJpegHeader(v.bytes);
      ASSERT_TRUE(hdr.ok()) << hdr.status();
      EXPECT_EQ(Difference(want, DecodeAndCropJpeg(
                                     v.bytes, {0, 0, hdr->height, hdr->width})),
                "");
    }
  }
}

TEST(JpegTablesTest, CompleteStreamsStillDecodeAfterAbbreviatedOnes) {
  // The handle an abbreviated stream leaves behind serves complete ones.
  for (const std::string name :
       {"baseline_420.jpg", "progressive_rgb.jpg", "cmyk.jpg", "gray.jpg"}) {
    const std::string jpeg = ReadImage(name);
    const absl::StatusOr<Tensor> want = FreshDecode(jpeg);
    ASSERT_TRUE(want.ok()) << name << ": " << want.status();
    for (const Variant& v : Variants()) {
      (void)DecodeJpeg(v.bytes);
      EXPECT_EQ(Difference(want, DecodeJpeg(jpeg)), "")
          << name << " after " << v.name;
    }
  }
}

}  // namespace
}  // namespace sluice::image
