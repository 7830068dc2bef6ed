// Graph <-> GraphDef, judged with the protobuf library: TensorFlow's op and
// attribute names on export, an imported graph computing what the original
// did (a model trained a few steps on both sides of the round trip), ops
// sluice lacks named on import, and the graph event TensorBoard reads.

#include "graph/graph_def.h"

#include <cmath>
#include <filesystem>

#include "gmock/gmock.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "graph/internal/tf_op_table.h"
#include "graph/op_registry.h"
#include "graph/ops/array_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/ops/nn_ops.h"
#include "graph/optimizers/gradient_descent.h"
#include "graph/session.h"
#include "graph/summary_writer.h"
#include "graph/tf_format/proto/graph.pb.h"
#include "graph/variables.h"
#include "gtest/gtest.h"
#include "readers/record_reader.h"
#include "test_tmpdir.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

const tensorflow::NodeDef* FindNodeDef(const tensorflow::GraphDef& def, const std::string& name) {
  for (const auto& n : def.node()) {
    if (n.name() == name) return &n;
  }
  return nullptr;
}

// A small model: logits = relu(x W + b) V, loss = mean softmax xent,
// trained by gradient descent.
struct Model {
  Output x, labels, loss, logits;
  Operation train;
};

Model BuildModel(Graph* g) {
  Scope root = Scope::Root(g);
  Model m;
  m.x = ops::Placeholder(root.WithOpName("x"), DType::kFloat32, TensorShape{-1, 3});
  m.labels = ops::Placeholder(root.WithOpName("labels"), DType::kFloat32, TensorShape{-1, 2});
  Variable w = NewVariable(root, Tensor::FromVector<float>({0.1f, -0.2f, 0.3f, 0.4f, 0.5f, -0.6f}, {3, 2}),
                           {.name = "W"});
  Variable b = NewVariable(root, Tensor::FromVector<float>({0.01f, -0.02f}, {2}), {.name = "b"});
  Variable v = NewVariable(root, Tensor::FromVector<float>({1.f, -1.f, 0.5f, 2.f}, {2, 2}), {.name = "V"});
  Output h = ops::Relu(root, ops::Add(root, ops::MatMul(root, m.x, w), b));
  m.logits = ops::MatMul(root.WithOpName("logits"), h, v, {.transpose_b = true});
  auto xent = ops::SoftmaxCrossEntropyWithLogits(root, m.labels, m.logits);
  m.loss = ops::ReduceMean(root.WithOpName("loss"), xent.loss);
  GradientDescentOptimizer opt(0.5);
  auto train = opt.Minimize(root, m.loss);
  EXPECT_TRUE(train.ok()) << train.status();
  m.train = *train;
  EXPECT_TRUE(root.ok()) << root.status();
  return m;
}

FeedList Feeds(const Graph& g) {
  return {{*g.GetTensorByName("x:0"), Tensor::FromVector<float>({1, 2, 3, -1, 0.5f, 2}, {2, 3})},
          {*g.GetTensorByName("labels:0"), Tensor::FromVector<float>({1, 0, 0, 1}, {2, 2})}};
}

// Losses of three training steps.
std::vector<float> Train(Graph* g, Session* sess, const std::string& train_op) {
  EXPECT_TRUE(sess->Run({}, {}, {GlobalVariablesInitializer(Scope::Root(g))}, nullptr).ok());
  std::vector<float> losses;
  Output loss = *g->GetTensorByName("loss:0");
  Operation train(g->FindNode(train_op));
  for (int i = 0; i < 3; ++i) {
    std::vector<Tensor> out;
    absl::Status s = sess->Run(Feeds(*g), {loss}, {train}, &out);
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) return losses;
    losses.push_back(out[0].scalar<float>());
  }
  return losses;
}

TEST(GraphDefTest, EveryRegisteredOpHasAGraphDefRow) {
  for (const std::string& op : OpRegistry::Global()->OpNames()) {
    EXPECT_NE(internal::FindTfOp(op), nullptr)
        << "op " << op << " has no row in src/graph/tf_format/tf_op_table.cc";
  }
}

TEST(GraphDefTest, ExportUsesTensorFlowsOpAndAttrNames) {
  Graph g;
  Model m = BuildModel(&g);
  auto bytes = GraphToGraphDef(g);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  tensorflow::GraphDef def;
  ASSERT_TRUE(def.ParseFromString(*bytes));
  EXPECT_EQ(def.node_size(), g.num_nodes());
  EXPECT_GT(def.versions().producer(), 0);

  const tensorflow::NodeDef* logits = FindNodeDef(def, "logits");
  ASSERT_NE(logits, nullptr);
  EXPECT_EQ(logits->op(), "MatMul");
  EXPECT_EQ(logits->attr().at("T").type(), tensorflow::DT_FLOAT);
  EXPECT_TRUE(logits->attr().at("transpose_b").b());
  EXPECT_FALSE(logits->attr().at("transpose_a").b());
  ASSERT_EQ(logits->input_size(), 2);
  EXPECT_EQ(logits->input(1), "V");

  const tensorflow::NodeDef* x = FindNodeDef(def, "x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->op(), "Placeholder");
  EXPECT_EQ(x->attr().at("dtype").type(), tensorflow::DT_FLOAT);
  ASSERT_EQ(x->attr().at("shape").shape().dim_size(), 2);
  EXPECT_EQ(x->attr().at("shape").shape().dim(0).size(), -1);
  EXPECT_EQ(x->attr().at("shape").shape().dim(1).size(), 3);

  const tensorflow::NodeDef* w = FindNodeDef(def, "W");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->op(), "VariableV2");
  EXPECT_EQ(w->attr().at("dtype").type(), tensorflow::DT_FLOAT);
  const tensorflow::NodeDef* assign = FindNodeDef(def, "W/Assign");
  ASSERT_NE(assign, nullptr);
  EXPECT_EQ(assign->op(), "Assign");
  EXPECT_EQ(assign->input(0), "W");
  EXPECT_EQ(assign->attr().at("T").type(), tensorflow::DT_FLOAT);
  const tensorflow::NodeDef* init = FindNodeDef(def, assign->input(1));
  ASSERT_NE(init, nullptr);
  EXPECT_EQ(init->op(), "Const");
  EXPECT_EQ(init->attr().at("dtype").type(), tensorflow::DT_FLOAT);
  const tensorflow::TensorProto& value = init->attr().at("value").tensor();
  EXPECT_EQ(value.dtype(), tensorflow::DT_FLOAT);
  EXPECT_EQ(value.tensor_content().size(), 6 * sizeof(float));

  const tensorflow::NodeDef* loss = FindNodeDef(def, "loss");
  ASSERT_NE(loss, nullptr);
  EXPECT_EQ(loss->op(), "Mean");
  EXPECT_EQ(loss->attr().at("Tidx").type(), tensorflow::DT_INT32);
  EXPECT_FALSE(loss->attr().at("keep_dims").b());

  // Outputs past the first are "node:i"; control inputs "^node", last.
  bool saw_indexed = false, saw_control = false;
  for (const auto& n : def.node()) {
    bool control_seen = false;
    for (const std::string& in : n.input()) {
      if (in[0] == '^') {
        control_seen = saw_control = true;
      } else {
        EXPECT_FALSE(control_seen) << n.name() << ": data input after a control input";
        if (in.find(':') != std::string::npos) saw_indexed = true;
      }
    }
  }
  EXPECT_TRUE(saw_indexed);  // the cross-entropy's second output, the gradient
  EXPECT_TRUE(saw_control);  // the train op's grouping
}

TEST(GraphDefTest, ImportedGraphTrainsLikeTheOriginal) {
  Graph g;
  Model m = BuildModel(&g);
  auto bytes = GraphToGraphDef(g);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  Session sess(&g);
  std::vector<float> want = Train(&g, &sess, m.train.name());
  ASSERT_EQ(want.size(), 3u);
  EXPECT_LT(want[2], want[0]);

  Graph g2;
  ASSERT_TRUE(ImportGraphDef(*bytes, &g2).ok());
  tensorflow::GraphDef a, b;
  ASSERT_TRUE(a.ParseFromString(*bytes));
  EXPECT_EQ(g2.num_nodes(), a.node_size());
  EXPECT_EQ(GlobalVariables(g2).size(), 3u);
  // Exporting the import gives the same nodes and inputs.
  auto again = GraphToGraphDef(g2);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(b.ParseFromString(*again));
  ASSERT_EQ(a.node_size(), b.node_size());
  for (int i = 0; i < a.node_size(); ++i) {
    EXPECT_EQ(a.node(i).name(), b.node(i).name());
    EXPECT_EQ(a.node(i).op(), b.node(i).op());
    EXPECT_EQ(std::vector<std::string>(a.node(i).input().begin(), a.node(i).input().end()),
              std::vector<std::string>(b.node(i).input().begin(), b.node(i).input().end()));
  }
  Session sess2(&g2);
  std::vector<float> got = Train(&g2, &sess2, m.train.name());
  EXPECT_EQ(got, want);
}

TEST(GraphDefTest, AnOpSluiceLacksIsUnimplementedNamingOpAndNode) {
  tensorflow::GraphDef def;
  auto* c = def.add_node();
  c->set_name("c");
  c->set_op("Const");
  (*c->mutable_attr())["dtype"].set_type(tensorflow::DT_FLOAT);
  auto* t = (*c->mutable_attr())["value"].mutable_tensor();
  t->set_dtype(tensorflow::DT_FLOAT);
  t->add_float_val(1.f);
  auto* w = def.add_node();
  w->set_name("weird");
  w->set_op("FancyNewOp");
  w->add_input("c");
  Graph g;
  absl::Status s = ImportGraphDef(def.SerializeAsString(), &g);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), HasSubstr("FancyNewOp"));
  EXPECT_THAT(s.message(), HasSubstr("weird"));
  // Nodes listed out of order and a missing input.
  tensorflow::GraphDef bad;
  auto* id = bad.add_node();
  id->set_name("id");
  id->set_op("Identity");
  id->add_input("nowhere:0");
  Graph g2;
  s = ImportGraphDef(bad.SerializeAsString(), &g2);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("nowhere"));
  Graph g3;
  EXPECT_EQ(ImportGraphDef("\xff\xff\xff", &g3).code(), absl::StatusCode::kDataLoss);
}

TEST(GraphDefTest, NodesOutOfOrderAreImportedInDependencyOrder) {
  tensorflow::GraphDef def;
  auto* add = def.add_node();
  add->set_name("sum");
  add->set_op("Add");
  add->add_input("c");
  add->add_input("c");
  (*add->mutable_attr())["T"].set_type(tensorflow::DT_FLOAT);
  auto* c = def.add_node();
  c->set_name("c");
  c->set_op("Const");
  (*c->mutable_attr())["dtype"].set_type(tensorflow::DT_FLOAT);
  auto* t = (*c->mutable_attr())["value"].mutable_tensor();
  t->set_dtype(tensorflow::DT_FLOAT);
  t->mutable_tensor_shape()->add_dim()->set_size(2);
  t->add_float_val(1.5f);  // TensorFlow's rule: the last value repeats
  Graph g;
  ASSERT_TRUE(ImportGraphDef(def.SerializeAsString(), &g).ok());
  Session sess(&g);
  std::vector<Tensor> out;
  ASSERT_TRUE(sess.Run({}, {*g.GetTensorByName("sum:0")}, &out).ok());
  EXPECT_EQ(out[0].data<float>()[0], 3.f);
  EXPECT_EQ(out[0].data<float>()[1], 3.f);
}

// The event file holds Event{graph_def = 4} with the GraphDef's bytes,
// read back with protobuf's own wire decoder.
TEST(GraphDefTest, FileWriterAddGraphWritesTheGraphDefEvent) {
  testing::TempDir dir;
  Graph g;
  BuildModel(&g);
  auto writer = FileWriter::Create(dir.path());
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->AddGraph(g).ok());
  ASSERT_TRUE((*writer)->Close().ok());
  auto reader = RecordReader::Open((*writer)->path(), RecordReaderOptions{});
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::string record;
  int graphs = 0;
  while (true) {
    auto r = (*reader)->Next();
    if (!r.ok()) break;
    record = std::string(r->data);
    google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(record.data()),
                                             static_cast<int>(record.size()));
    while (uint32_t tag = in.ReadTag()) {
      if (google::protobuf::internal::WireFormatLite::GetTagFieldNumber(tag) == 4) {
        std::string bytes;
        uint32_t len;
        ASSERT_TRUE(in.ReadVarint32(&len));
        ASSERT_TRUE(in.ReadString(&bytes, static_cast<int>(len)));
        tensorflow::GraphDef def;
        ASSERT_TRUE(def.ParseFromString(bytes));
        EXPECT_EQ(def.node_size(), g.num_nodes());
        EXPECT_NE(FindNodeDef(def, "logits"), nullptr);
        ++graphs;
      } else {
        ASSERT_TRUE(google::protobuf::internal::WireFormatLite::SkipField(&in, tag));
      }
    }
  }
  EXPECT_EQ(graphs, 1);
}

}  // namespace
}  // namespace sluice
