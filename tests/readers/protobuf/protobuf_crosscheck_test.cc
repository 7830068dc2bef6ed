// Cross-checks sluice's Example wire parser and builder against libprotobuf:
// random messages encoded by one are decoded identically by the other, the
// traits of real files (empty Features, packed/unpacked lists, large and
// negative int64, repeated keys, unknown fields, UTF-8) behave the same,
// and on mutated bytes sluice never accepts less than protobuf does.

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "readers/example.h"
#include "readers/example_builder.h"
#include "readers/protobuf_wire.h"
#include "readers/payload_kind.h"
#include "google/protobuf/stubs/logging.h"
#include "tf_example.pb.h"

namespace sluice {
namespace {

namespace pb = ::sluice::testproto;

// One feature as the generator meant it.
struct RandomFeature {
  std::string key;
  FeatureKind kind = FeatureKind::kNone;
  std::vector<std::string> bytes;
  std::vector<float> floats;
  std::vector<int64_t> ints;
};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  int Uniform(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  std::string Key() {
    static const char* kKeys[] = {"", "label", "image/encoded", "x", "\xe2\x96\x81word",
                                  "a.very.long.feature.name.with.dots", "\xc3\xa9t\xc3\xa9"};
    if (Uniform(4) == 0) return "k" + std::to_string(Uniform(1000));
    return kKeys[Uniform(7)];
  }

  std::string Bytes() {
    std::string s(Uniform(3) == 0 ? Uniform(300) : Uniform(12), '\0');
    for (char& c : s) c = static_cast<char>(Uniform(256));
    if (Uniform(5) == 0) s = "\xe2\x96\x81\xe4\xb8\xad\xf0\x9f\x98\x80";  // UTF-8
    return s;
  }

  int64_t Int() {
    switch (Uniform(8)) {
      case 0: return 0;
      case 1: return -1;
      case 2: return INT64_MIN;
      case 3: return INT64_MAX;
      case 4: return (int64_t{1} << 32) + Uniform(1000);  // above 2^32
      case 5: return -static_cast<int64_t>(Uniform(1 << 20));
      default: return static_cast<int64_t>(rng_());
    }
  }

  float Float() {
    switch (Uniform(6)) {
      case 0: return 0.0f;
      case 1: return -0.0f;
      case 2: return std::numeric_limits<float>::infinity();
      case 3: return std::nanf("");
      default: return std::uniform_real_distribution<float>(-1e6f, 1e6f)(rng_);
    }
  }

  RandomFeature Feature(std::string key) {
    RandomFeature f;
    f.key = std::move(key);
    f.kind = static_cast<FeatureKind>(Uniform(4));
    int n = Uniform(4) == 0 ? Uniform(200) : Uniform(5);
    for (int i = 0; i < n; ++i) {
      if (f.kind == FeatureKind::kBytesList) f.bytes.push_back(Bytes());
      if (f.kind == FeatureKind::kFloatList) f.floats.push_back(Float());
      if (f.kind == FeatureKind::kInt64List) f.ints.push_back(Int());
    }
    return f;
  }

  // Distinct keys (a protobuf map cannot hold repeats).
  std::vector<RandomFeature> Features() {
    std::vector<RandomFeature> out;
    int n = Uniform(9);
    for (int i = 0; i < n; ++i) {
      std::string key = Key();
      bool dup = false;
      for (const auto& f : out) dup |= f.key == key;
      if (!dup) out.push_back(Feature(key));
    }
    return out;
  }

 private:
  std::mt19937_64 rng_;
};

template <typename FeatureMsg>
void FillProtoFeature(const RandomFeature& f, FeatureMsg* out) {
  switch (f.kind) {
    case FeatureKind::kBytesList:
      out->mutable_bytes_list();
      for (const auto& b : f.bytes) out->mutable_bytes_list()->add_value(b);
      break;
    case FeatureKind::kFloatList:
      out->mutable_float_list();
      for (float v : f.floats) out->mutable_float_list()->add_value(v);
      break;
    case FeatureKind::kInt64List:
      out->mutable_int64_list();
      for (int64_t v : f.ints) out->mutable_int64_list()->add_value(v);
      break;
    case FeatureKind::kNone:
      break;  // an empty Feature message
  }
}

bool SameFloats(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// sluice's view of one feature equals protobuf's Feature message.
testing::AssertionResult SameFeature(std::string_view key, const pb::Feature& want,
                                     const FeatureView& got) {
  FeatureKind kind = FeatureKind::kNone;
  if (want.has_bytes_list()) kind = FeatureKind::kBytesList;
  if (want.has_float_list()) kind = FeatureKind::kFloatList;
  if (want.has_int64_list()) kind = FeatureKind::kInt64List;
  if (got.kind() != kind) {
    return testing::AssertionFailure() << "'" << key << "': kind " << FeatureKindName(got.kind())
                                       << " vs protobuf " << FeatureKindName(kind);
  }
  if (kind == FeatureKind::kBytesList) {
    std::vector<std::string_view> b = got.bytes();
    if (b.size() != static_cast<size_t>(want.bytes_list().value_size())) {
      return testing::AssertionFailure() << "'" << key << "': bytes count";
    }
    for (size_t i = 0; i < b.size(); ++i) {
      if (b[i] != want.bytes_list().value(i)) {
        return testing::AssertionFailure() << "'" << key << "': bytes value " << i;
      }
    }
  } else if (kind == FeatureKind::kFloatList) {
    std::vector<float> w(want.float_list().value().begin(), want.float_list().value().end());
    if (!SameFloats(got.floats(), w)) {
      return testing::AssertionFailure() << "'" << key << "': float values";
    }
  } else if (kind == FeatureKind::kInt64List) {
    std::vector<int64_t> w(want.int64_list().value().begin(), want.int64_list().value().end());
    if (got.int64s() != w) return testing::AssertionFailure() << "'" << key << "': int64 values";
  }
  if (got.size() != static_cast<int64_t>(got.bytes().size() + got.floats().size() +
                                         got.int64s().size())) {
    return testing::AssertionFailure() << "'" << key << "': size() disagrees with the values";
  }
  return testing::AssertionSuccess();
}

testing::AssertionResult SameFeatures(const pb::Features& want,
                                      const std::vector<FeatureEntry>& got) {
  if (got.size() != want.feature().size()) {
    return testing::AssertionFailure()
           << got.size() << " distinct keys vs protobuf " << want.feature().size();
  }
  for (const FeatureEntry& e : got) {
    auto it = want.feature().find(std::string(e.key));
    if (it == want.feature().end()) {
      return testing::AssertionFailure() << "key '" << e.key << "' unknown to protobuf";
    }
    testing::AssertionResult r = SameFeature(e.key, it->second, e.feature);
    if (!r) return r;
  }
  return testing::AssertionSuccess();
}

testing::AssertionResult SameExample(const pb::Example& want, const ExampleView& got) {
  return SameFeatures(want.features(), got.UniqueEntries());
}

// The generator's intent equals what protobuf parsed.
testing::AssertionResult ProtoMatchesIntent(const pb::Example& got,
                                            const std::vector<RandomFeature>& want) {
  if (got.features().feature().size() != want.size()) {
    return testing::AssertionFailure() << "feature count";
  }
  for (const RandomFeature& f : want) {
    auto it = got.features().feature().find(f.key);
    if (it == got.features().feature().end()) {
      return testing::AssertionFailure() << "missing '" << f.key << "'";
    }
    const pb::Feature& p = it->second;
    bool ok = true;
    switch (f.kind) {
      case FeatureKind::kNone: ok = p.kind_case() == pb::Feature::KIND_NOT_SET; break;
      case FeatureKind::kBytesList:
        ok = p.has_bytes_list() &&
             std::vector<std::string>(p.bytes_list().value().begin(),
                                      p.bytes_list().value().end()) == f.bytes;
        break;
      case FeatureKind::kFloatList:
        ok = p.has_float_list() &&
             SameFloats(std::vector<float>(p.float_list().value().begin(),
                                           p.float_list().value().end()),
                        f.floats);
        break;
      case FeatureKind::kInt64List:
        ok = p.has_int64_list() &&
             std::vector<int64_t>(p.int64_list().value().begin(), p.int64_list().value().end()) ==
                 f.ints;
        break;
    }
    if (!ok) return testing::AssertionFailure() << "feature '" << f.key << "' differs";
  }
  return testing::AssertionSuccess();
}

TEST(ProtobufCrossCheckTest, RandomProtobufExamplesParseIdentically) {
  Generator gen(1234);
  ExampleView view;
  for (int i = 0; i < 4000; ++i) {
    std::vector<RandomFeature> features = gen.Features();
    pb::Example ex;
    ex.mutable_features();
    for (const auto& f : features) FillProtoFeature(f, &(*ex.mutable_features()->mutable_feature())[f.key]);
    std::string bytes = ex.SerializeAsString();
    ASSERT_TRUE(view.Parse(bytes).ok()) << "example " << i << ": " << view.Parse(bytes);
    ASSERT_TRUE(SameExample(ex, view)) << "example " << i;
  }
}

TEST(ProtobufCrossCheckTest, RandomUnpackedProtobufExamplesParseIdentically) {
  Generator gen(99);
  ExampleView view;
  for (int i = 0; i < 2000; ++i) {
    std::vector<RandomFeature> features = gen.Features();
    pb::ExampleUnpacked unpacked;
    for (const auto& f : features) {
      FillProtoFeature(f, &(*unpacked.mutable_features()->mutable_feature())[f.key]);
    }
    std::string bytes = unpacked.SerializeAsString();
    pb::Example packed_reader;  // protobuf accepts either encoding
    ASSERT_TRUE(packed_reader.ParseFromString(bytes));
    ASSERT_TRUE(view.Parse(bytes).ok()) << "example " << i;
    ASSERT_TRUE(SameExample(packed_reader, view)) << "example " << i;
  }
}

TEST(ProtobufCrossCheckTest, SluiceBuiltExamplesParseIdenticallyInProtobuf) {
  Generator gen(7);
  for (int i = 0; i < 4000; ++i) {
    std::vector<RandomFeature> features = gen.Features();
    ListEncoding enc = i % 2 ? ListEncoding::kUnpacked : ListEncoding::kPacked;
    ExampleBuilder b;
    for (const auto& f : features) {
      switch (f.kind) {
        case FeatureKind::kNone: b.AddEmpty(f.key); break;
        case FeatureKind::kBytesList:
          b.AddBytes(f.key, std::vector<std::string_view>(f.bytes.begin(), f.bytes.end()));
          break;
        case FeatureKind::kFloatList: b.AddFloats(f.key, f.floats, enc); break;
        case FeatureKind::kInt64List: b.AddInt64s(f.key, f.ints, enc); break;
      }
    }
    std::string bytes = b.Serialize();
    pb::Example ex;
    ASSERT_TRUE(ex.ParseFromString(bytes)) << "example " << i;
    ASSERT_TRUE(ProtoMatchesIntent(ex, features)) << "example " << i;
  }
}

TEST(ProtobufCrossCheckTest, RandomSequenceExamplesParseIdentically) {
  Generator gen(5);
  SequenceExampleView view;
  for (int i = 0; i < 1000; ++i) {
    pb::SequenceExample sx;
    for (const auto& f : gen.Features()) {
      FillProtoFeature(f, &(*sx.mutable_context()->mutable_feature())[f.key]);
    }
    int lists = gen.Uniform(4);
    for (int l = 0; l < lists; ++l) {
      pb::FeatureList& fl = (*sx.mutable_feature_lists()->mutable_feature_list())[gen.Key()];
      fl.Clear();
      int steps = gen.Uniform(5);
      for (int s = 0; s < steps; ++s) FillProtoFeature(gen.Feature("step"), fl.add_feature());
    }
    std::string bytes = sx.SerializeAsString();
    ASSERT_TRUE(view.Parse(bytes).ok()) << i;
    std::vector<FeatureEntry> ctx(view.context().begin(), view.context().end());
    ASSERT_TRUE(SameFeatures(sx.context(), ctx)) << i;
    ASSERT_EQ(view.feature_lists().size(), sx.feature_lists().feature_list().size());
    for (const auto& [key, list] : sx.feature_lists().feature_list()) {
      const FeatureListView* got = view.FindFeatureList(key);
      ASSERT_NE(got, nullptr) << key;
      ASSERT_EQ(got->size(), static_cast<size_t>(list.feature_size()));
      for (int s = 0; s < list.feature_size(); ++s) {
        ASSERT_TRUE(SameFeature(key, list.feature(s), (*got)[s])) << i;
      }
    }
  }
}

// Hand-written wire bytes for the traits protobuf's serializer never writes.
std::string Ld(uint32_t field, std::string_view body) {
  std::string s;
  internal::AppendLengthDelimited(&s, field, body);
  return s;
}
std::string Varint(uint32_t field, uint64_t v) {
  std::string s;
  internal::AppendTag(&s, field, internal::kWireVarint);
  internal::AppendVarint64(&s, v);
  return s;
}

void ExpectSameAsProtobuf(const std::string& bytes) {
  pb::Example ex;
  ASSERT_TRUE(ex.ParseFromString(bytes));
  ExampleView view;
  ASSERT_TRUE(view.Parse(bytes).ok()) << view.Parse(bytes);
  EXPECT_TRUE(SameExample(ex, view));
}

TEST(ProtobufCrossCheckTest, RepeatedMapKeyLastWinsLikeProtobuf) {
  std::string features = Ld(1, Ld(1, "k") + Ld(2, Ld(3, Varint(1, 1)))) +
                         Ld(1, Ld(1, "other") + Ld(2, "")) +
                         Ld(1, Ld(1, "k") + Ld(2, Ld(1, Ld(1, "last"))));
  ExpectSameAsProtobuf(Ld(1, features));
}

TEST(ProtobufCrossCheckTest, MergedFieldsAndOneofSwitchesLikeProtobuf) {
  // Two value fields in one entry, a oneof that switches and switches back,
  // two Features fields, and a key written after its value.
  std::string entry = Ld(2, Ld(2, std::string("\x0d\x00\x00\x80\x3f", 5))) + Ld(1, "k") +
                      Ld(2, Ld(3, Varint(1, 9)) + Ld(2, std::string("\x0d\x00\x00\x00\x40", 5))) +
                      Ld(2, Ld(2, std::string("\x0a\x04\x00\x00\x40\x40", 6)));
  std::string bytes = Ld(1, Ld(1, entry)) + Ld(1, Ld(1, Ld(1, "z") + Ld(2, "")));
  ExpectSameAsProtobuf(bytes);
}

TEST(ProtobufCrossCheckTest, UnknownFieldsAndGroupsAreSkippedLikeProtobuf) {
  std::string group;
  internal::AppendTag(&group, 20, internal::kWireStartGroup);
  group += Varint(1, 5) + Ld(2, "abc");
  internal::AppendTag(&group, 20, internal::kWireEndGroup);
  std::string fixed64;
  internal::AppendTag(&fixed64, 12, internal::kWireFixed64);
  fixed64.append(8, '\x01');
  std::string list = Varint(1, static_cast<uint64_t>(-5)) + Varint(2, 1) + group;
  std::string feature = Ld(3, list) + fixed64 + Varint(4, 4);
  std::string features = Ld(1, Varint(5, 5) + Ld(1, "k") + Ld(2, feature) + group) + fixed64;
  ExpectSameAsProtobuf(Varint(3, 7) + Ld(1, features) + group);
}

TEST(ProtobufCrossCheckTest, PayloadKindOfProtobufMessages) {
  pb::Event file_version;
  file_version.set_wall_time(1.5);
  file_version.set_file_version("brain.Event:2");
  pb::Event scalar;
  scalar.set_wall_time(2.0);
  scalar.set_step(10);
  pb::Summary::Value* v = scalar.mutable_summary()->add_value();
  v->set_tag("loss");
  v->set_simple_value(0.5f);
  pb::Example ex;
  (*ex.mutable_features()->mutable_feature())["x"].mutable_int64_list()->add_value(1);
  pb::SequenceExample sx;
  (*sx.mutable_feature_lists()->mutable_feature_list())["x"].add_feature();
  EXPECT_EQ(ClassifyPayload(file_version.SerializeAsString()), PayloadKind::kEvent);
  EXPECT_EQ(ClassifyPayload(scalar.SerializeAsString()), PayloadKind::kEvent);
  EXPECT_EQ(ClassifyPayload(ex.SerializeAsString()), PayloadKind::kExample);
  EXPECT_EQ(ClassifyPayload(sx.SerializeAsString()), PayloadKind::kSequenceExample);
  // A SequenceExample with only a context looks exactly like an Example.
  pb::SequenceExample context_only;
  (*context_only.mutable_context()->mutable_feature())["x"];
  EXPECT_EQ(ClassifyPayload(context_only.SerializeAsString()), PayloadKind::kExample);
}

// Strict UTF-8 (no overlong forms, surrogates or values past U+10FFFF),
// enough to tell why protobuf rejected a key.
bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;  // bounds of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (d < lo || d > hi) : (d >> 6) != 2) return false;
    }
    i += n + 1;
  }
  return true;
}

// Calls fn(bytes) for every length-delimited field `field` of `msg`;
// false when the framing is broken.
template <typename Fn>
bool ForEachField(std::string_view msg, uint32_t want, Fn&& fn) {
  const char* p = msg.data();
  const char* end = p + msg.size();
  while (p < end) {
    uint32_t field, wt;
    p = internal::ReadTag(p, end, &field, &wt);
    if (p == nullptr) return false;
    if (wt == internal::kWireLengthDelimited) {
      std::string_view v;
      p = internal::ReadLengthDelimited(p, end, &v);
      if (p == nullptr) return false;
      if (field == want) fn(v);
    } else {
      p = internal::SkipField(p, end, field, wt);
      if (p == nullptr) return false;
    }
  }
  return true;
}

// True when some map key of the Example's Features, including keys that a
// later duplicate overrides (protobuf validates each one as it parses it),
// is not UTF-8.
bool AnyKeyNotUtf8(std::string_view example) {
  bool bad = false;
  ForEachField(example, 1, [&](std::string_view features) {
    ForEachField(features, 1, [&](std::string_view entry) {
      ForEachField(entry, 1, [&](std::string_view key) { bad |= !ValidUtf8(key); });
    });
  });
  return bad;
}

TEST(ProtobufCrossCheckTest, MutatedBytesNeverRejectWhatProtobufAccepts) {
  Generator gen(2024);
  ExampleView view;
  google::protobuf::LogSilencer quiet;  // protobuf logs every bad-UTF-8 key
  int protobuf_ok = 0, both_ok = 0, sluice_only_utf8 = 0;
  for (int i = 0; i < 20000; ++i) {
    pb::Example ex;
    for (const auto& f : gen.Features()) {
      FillProtoFeature(f, &(*ex.mutable_features()->mutable_feature())[f.key]);
    }
    std::string bytes = ex.SerializeAsString();
    int mutations = 1 + gen.Uniform(3);
    for (int m = 0; m < mutations && !bytes.empty(); ++m) {
      size_t at = gen.Uniform(static_cast<int>(bytes.size()));
      switch (gen.Uniform(4)) {
        case 0: bytes[at] = static_cast<char>(gen.Uniform(256)); break;
        case 1: bytes.resize(at); break;
        case 2: bytes.insert(at, 1, static_cast<char>(gen.Uniform(256))); break;
        default: bytes[at] ^= static_cast<char>(1 << gen.Uniform(8)); break;
      }
    }
    pb::Example parsed;
    bool pb_ok = parsed.ParseFromString(bytes);
    bool sluice_ok = view.Parse(bytes).ok();
    if (pb_ok) {
      ++protobuf_ok;
      ASSERT_TRUE(sluice_ok) << "protobuf accepts, sluice rejects: " << view.Parse(bytes)
                             << "; mutant " << i << ": " << testing::PrintToString(bytes);
      ASSERT_TRUE(SameExample(parsed, view)) << "mutant " << i;
      ++both_ok;
    } else if (sluice_ok) {
      // The only leniency allowed: proto3 rejects keys that are not UTF-8;
      // TensorFlow's own parser does not check them, nor does sluice.
      bool bad_key = AnyKeyNotUtf8(bytes);
      ASSERT_TRUE(bad_key) << "sluice accepts what protobuf rejects, mutant " << i << ": "
                           << testing::PrintToString(bytes);
      ++sluice_only_utf8;
    }
  }
  EXPECT_GT(protobuf_ok, 1000);  // the mutants exercise both outcomes
  EXPECT_LT(protobuf_ok, 19000);
  RecordProperty("protobuf_accepted", protobuf_ok);
  RecordProperty("sluice_only_bad_utf8_key", sluice_only_utf8);
}

}  // namespace
}  // namespace sluice
