// Integration: softmax regression on Fashion-MNIST (Debian's
// dataset-fashion-mnist, IDX files) trained on the CPU through the graph
// Session reaches ≥ 0.84 test accuracy.

#include <filesystem>
#include <iostream>
#include <numeric>

#include "graph/optimizers/adam.h"
#include "readers/idx.h"
#include "train_util.h"

namespace sluice {
namespace {

constexpr char kDir[] = "/usr/share/datasets/fashion-mnist";

testing::Dataset Load(const std::string& images, const std::string& labels) {
  testing::Dataset d;
  auto im = ReadIdxFile(std::string(kDir) + "/" + images);
  auto lb = ReadIdxFile(std::string(kDir) + "/" + labels);
  EXPECT_TRUE(im.ok()) << im.status();
  EXPECT_TRUE(lb.ok()) << lb.status();
  if (!im.ok() || !lb.ok()) return d;
  d.dim = static_cast<int>(im->row_elements());
  d.classes = 10;
  d.x.resize(im->data.size());
  for (size_t i = 0; i < im->data.size(); ++i) d.x[i] = static_cast<uint8_t>(im->data[i]) / 255.0f;
  for (char c : lb->data) d.y.push_back(static_cast<uint8_t>(c));
  return d;
}

TEST(FashionMnistIntegrationTest, SoftmaxRegressionReachesAtLeast84Percent) {
  if (!std::filesystem::exists(std::string(kDir) + "/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)";
  }
  testing::Dataset train = Load("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz");
  testing::Dataset test = Load("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz");
  ASSERT_EQ(train.size(), 60000);
  ASSERT_EQ(test.size(), 10000);
  ASSERT_EQ(train.dim, 784);

  Graph g;
  Scope root = Scope::Root(&g);
  testing::Model m = testing::BuildClassifier(root, 784, 10, /*hidden=*/0);
  AdamOptimizer opt(0.0005);
  auto train_op = opt.Minimize(root, m.loss);
  ASSERT_TRUE(train_op.ok()) << train_op.status();
  Session sess(&g);
  ASSERT_TRUE(sess.Run({}, {}, {GlobalVariablesInitializer(root)}, nullptr).ok());

  const int batch = 100, epochs = 15;
  std::vector<int64_t> order(train.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(42);
  Tensor x(DType::kFloat32, {batch, 784}), y(DType::kInt64, {batch});
  for (int e = 0; e < epochs; ++e) {
    std::shuffle(order.begin(), order.end(), rng);
    for (int64_t start = 0; start + batch <= train.size(); start += batch) {
      // Fresh tensors: the previous batch may still be referenced.
      x = Tensor(DType::kFloat32, {batch, 784});
      y = Tensor(DType::kInt64, {batch});
      for (int i = 0; i < batch; ++i) {
        const int64_t r = order[start + i];
        std::copy_n(train.x.data() + r * 784, 784, x.data<float>() + i * 784);
        y.data<int64_t>()[i] = train.y[r];
      }
      ASSERT_TRUE(sess.Run({{m.x, x}, {m.y, y}}, {}, {*train_op}, nullptr).ok());
    }
  }
  const double accuracy = testing::Accuracy(&sess, m, test);
  std::cout << "fashion-mnist softmax regression test accuracy " << accuracy << "\n";
  EXPECT_GE(accuracy, 0.84);
}

}  // namespace
}  // namespace sluice
