// The audio summary (AudioSummaryV2) read back with libprotobuf, and its WAV
// clips decoded by Python's standard `wave` module (/usr/bin/python3): the
// header fields and every 16-bit sample against TensorFlow's conversion
// clamp(round(x * 32768), -32768, 32767).

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "../test_tmpdir.h"
#include "event.pb.h"
#include "graph/ops/array_ops.h"
#include "graph/session.h"
#include "graph/summary_ops.h"

namespace sluice {
namespace {

namespace tb = ::sluice::testproto::tb;

struct DecodedWav {
  int channels = 0, sample_width = 0, rate = 0, frames = 0;
  std::string comptype;
  std::vector<int> samples;
};

// Decodes `wav` with Python's wave module.
DecodedWav DecodeWithPython(const std::string& wav, const std::string& path) {
  {
    std::ofstream f(path, std::ios::binary);
    f.write(wav.data(), static_cast<std::streamsize>(wav.size()));
  }
  const std::string cmd =
      "/usr/bin/python3 -c \"import sys, wave, array\n"
      "w = wave.open(sys.argv[1], 'rb')\n"
      "print(w.getnchannels(), w.getsampwidth(), w.getframerate(), "
      "w.getnframes(), w.getcomptype())\n"
      "a = array.array('h'); a.frombytes(w.readframes(w.getnframes()))\n"
      "print(' '.join(map(str, a)))\" " +
      path;
  DecodedWav d;
  FILE* p = popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr);
  if (p == nullptr) return d;
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) text.append(buf, n);
  EXPECT_EQ(pclose(p), 0) << text;
  std::istringstream in(text);
  in >> d.channels >> d.sample_width >> d.rate >> d.frames >> d.comptype;
  int s;
  while (in >> s) d.samples.push_back(s);
  return d;
}

int Expected(float x) {
  return static_cast<int>(
      std::min(std::max(std::round(x * 32768.0f), -32768.0f), 32767.0f));
}

TEST(AudioSummaryTest, WavClipsDecodeToTheSamples) {
  testing::TempDir tmp;
  const std::string dir = tmp.path();
  // 3 clips of 5 frames x 2 channels, some samples outside [-1, 1].
  std::vector<float> v(3 * 5 * 2);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = 1.3f * std::sin(0.7f * static_cast<float>(i)) - 0.05f;
  v[3] = 1.0f;
  v[4] = -1.0f;
  Graph g;
  Scope root = Scope::Root(&g);
  Output clips = ops::Const(
      root, Tensor::FromVector<float>(absl::MakeConstSpan(v), {3, 5, 2}));
  Output s2 =
      summary::Audio(root.NewSubScope("sound"), "clip", clips, 8000.4f, 2);
  Output mono = summary::Audio(root, "mono", ops::Reshape(root, clips, {3, 10}),
                               16000, 1);
  ASSERT_TRUE(root.ok()) << root.status();
  Session sess(&g);
  std::vector<Tensor> out;
  ASSERT_TRUE(sess.Run({}, {s2, mono}, &out).ok());

  tb::Summary stereo;
  ASSERT_TRUE(stereo.ParseFromString(std::string(out[0].string(0))));
  ASSERT_EQ(stereo.value_size(), 2);  // max_outputs of 3 clips
  for (int i = 0; i < 2; ++i) {
    const tb::Summary::Value& val = stereo.value(i);
    EXPECT_EQ(val.tag(), "sound/clip/audio/" + std::to_string(i));
    ASSERT_EQ(val.value_case(), tb::Summary::Value::kAudio);
    EXPECT_FLOAT_EQ(val.audio().sample_rate(), 8000.4f);
    EXPECT_EQ(val.audio().num_channels(), 2);
    EXPECT_EQ(val.audio().length_frames(), 5);
    EXPECT_EQ(val.audio().content_type(), "audio/wav");
    DecodedWav w = DecodeWithPython(val.audio().encoded_audio_string(),
                                    dir + "/clip" + std::to_string(i) + ".wav");
    EXPECT_EQ(w.channels, 2);
    EXPECT_EQ(w.sample_width, 2);
    EXPECT_EQ(w.rate, 8000);
    EXPECT_EQ(w.frames, 5);
    EXPECT_EQ(w.comptype, "NONE");
    ASSERT_EQ(w.samples.size(), 10u);
    for (int k = 0; k < 10; ++k)
      EXPECT_EQ(w.samples[k], Expected(v[i * 10 + k]))
          << "clip " << i << " sample " << k;
  }
  EXPECT_EQ(DecodeWithPython(stereo.value(0).audio().encoded_audio_string(),
                             dir + "/c.wav")
                .samples[3],
            32767);

  tb::Summary m;
  ASSERT_TRUE(m.ParseFromString(std::string(out[1].string(0))));
  ASSERT_EQ(m.value_size(), 1);
  EXPECT_EQ(m.value(0).tag(), "mono/audio");
  DecodedWav w = DecodeWithPython(m.value(0).audio().encoded_audio_string(),
                                  dir + "/mono.wav");
  EXPECT_EQ(w.channels, 1);
  EXPECT_EQ(w.rate, 16000);
  EXPECT_EQ(w.frames, 10);
  ASSERT_EQ(w.samples.size(), 10u);
  EXPECT_EQ(w.samples[4], -32768);
}

TEST(AudioSummaryTest, RejectsOtherRanks) {
  Graph g;
  Scope root = Scope::Root(&g);
  Output bad =
      summary::Audio(root, "bad", ops::Const(root, {1.0f, 2.0f}), 100.0f);
  ASSERT_TRUE(root.ok());
  Session sess(&g);
  std::vector<Tensor> out;
  absl::Status st = sess.Run({}, {bad}, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()),
              ::testing::HasSubstr("Tensor must be 3-D or 2-D"));
}

}  // namespace
}  // namespace sluice
