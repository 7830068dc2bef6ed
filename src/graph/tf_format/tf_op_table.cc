// The GraphDef form of every sluice op (internal/tf_op_table.h).

#include "graph/internal/tf_op_table.h"

#include <map>

namespace sluice::internal {
namespace {

DerivedAttr In(std::string name, int index = 0) { return {std::move(name), DerivedAttr::kInputDType, index, {}}; }
DerivedAttr Out(std::string name, int index = 0) { return {std::move(name), DerivedAttr::kOutputDType, index, {}}; }
DerivedAttr NumInputs(std::string name, int plus = 0) {
  return {std::move(name), DerivedAttr::kNumInputs, plus, {}};
}
DerivedAttr Constant(std::string name, AttrValue v) {
  return {std::move(name), DerivedAttr::kConstant, 0, std::move(v)};
}

using Table = std::map<std::string, TfOpInfo, std::less<>>;

void Rows(Table* t, std::initializer_list<const char*> ops, std::vector<DerivedAttr> derived) {
  for (const char* op : ops) (*t)[op] = TfOpInfo{"", derived};
}

Table Build() {
  Table t;
  // Element-wise ops: T is the (first) input's dtype.
  Rows(&t,
       {"Add", "AddV2", "Sub", "Mul", "RealDiv", "Pow", "Maximum", "Minimum", "SquaredDifference", "Equal",
        "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "ReluGrad", "SigmoidGrad", "TanhGrad", "Neg",
        "Exp", "Log", "Sqrt", "Rsqrt", "Square", "Abs", "Sign", "Reciprocal", "Floor", "Ceil", "Relu", "Sigmoid",
        "Tanh", "Softmax", "LogSoftmax", "Identity", "StopGradient", "ZerosLike", "OnesLike", "BiasAdd",
        "BiasAddGrad", "Conv2D", "MaxPool", "MatMul", "SoftmaxCrossEntropyWithLogits", "Print", "CountUpTo",
        "RandomShuffle", "StridedSlice"},
       {In("T")});
  // Ops whose TensorFlow attributes sluice stores itself.
  Rows(&t, {"LogicalAnd", "LogicalOr", "LogicalNot", "NoOp", "ParseExample", "ParseSingleExample", "DecodeRaw",
            "PrintV2", "FIFOQueueV2", "RandomShuffleQueueV2", "PaddingFIFOQueueV2", "QueueEnqueueV2",
            "QueueEnqueueManyV2", "QueueDequeueV2", "QueueDequeueManyV2", "QueueDequeueUpToV2", "QueueCloseV2",
            "QueueSizeV2", "TFRecordReaderV2", "ReaderReadV2", "ReaderReadUpToV2"},
       {});
  Rows(&t, {"Const", "Placeholder", "PlaceholderWithDefault", "VariableV2"}, {Out("dtype")});
  Rows(&t, {"ScalarSummary", "HistogramSummary", "ImageSummary", "TensorSummaryV2"}, {In("T", 1)});
  Rows(&t, {"MergeSummary"}, {NumInputs("N")});
  Rows(&t, {"Assign", "AssignAdd", "AssignSub"}, {In("T"), Constant("use_locking", false)});
  Rows(&t, {"ApplyGradientDescent", "ApplyMomentum"}, {In("T"), Constant("use_locking", false)});
  Rows(&t, {"Conv2DBackpropInput", "Conv2DBackpropFilter"}, {In("T", 2)});
  Rows(&t, {"MaxPoolGrad"}, {In("T")});
  Rows(&t, {"SparseSoftmaxCrossEntropyWithLogits"}, {In("T"), In("Tlabels", 1)});
  Rows(&t, {"AddN"}, {In("T"), NumInputs("N")});
  Rows(&t, {"Cast"}, {In("SrcT"), Out("DstT"), Constant("Truncate", false)});
  Rows(&t, {"Reshape"}, {In("T"), In("Tshape", 1)});
  Rows(&t, {"Shape"}, {In("T"), Out("out_type")});
  Rows(&t, {"Fill"}, {In("T", 1), In("index_type", 0)});
  Rows(&t, {"ConcatV2"}, {In("T"), NumInputs("N", -1), In("Tidx", -1)});
  Rows(&t, {"Split"}, {In("T", 1)});
  Rows(&t, {"Slice"}, {In("T"), In("Index", 1)});
  Rows(&t, {"OneHot"}, {In("T", 2), In("TI", 0)});
  Rows(&t, {"Transpose"}, {In("T"), In("Tperm", 1)});
  Rows(&t, {"Sum", "Mean", "Max", "Min", "Prod"}, {In("T"), In("Tidx", 1)});
  Rows(&t, {"ArgMax", "ArgMin"}, {In("T"), In("Tidx", 1), Out("output_type")});
  Rows(&t, {"RandomStandardNormal", "TruncatedNormal", "RandomUniform"}, {In("T"), Out("dtype")});
  Rows(&t, {"Pad", "PadV2"}, {In("T"), In("Tpaddings", 1)});
  Rows(&t, {"UnsortedSegmentSum"}, {In("T"), In("Tindices", 1), In("Tnumsegments", 2)});
  Rows(&t, {"BatchMatMulV2", "CheckNumerics", "Squeeze", "Where", "Unpack"}, {In("T")});
  Rows(&t, {"Size"}, {In("T"), Out("out_type")});
  Rows(&t, {"Rank"}, {In("T")});
  Rows(&t, {"Tile"}, {In("T"), In("Tmultiples", 1)});
  Rows(&t, {"Select"}, {In("T", 1)});
  Rows(&t, {"ExpandDims"}, {In("T"), In("Tdim", 1)});
  Rows(&t, {"Pack"}, {In("T"), NumInputs("N")});
  Rows(&t, {"GatherV2"}, {In("Tparams"), In("Tindices", 1), In("Taxis", 2)});
  Rows(&t, {"LinSpace"}, {In("T"), In("Tidx", 2)});
  Rows(&t, {"Range"}, {Out("Tidx")});
  // sluice's forms: Assert's data types, If's branch graphs and the
  // initialized-value helper are stored by sluice itself.
  Rows(&t, {"Assert", "If", "_InitializedValue"}, {});
  // tf.image: T is the image's dtype; the decoders and EncodeJpeg keep their
  // own attributes (channels, dtype, quality, ...).
  Rows(&t, {"AdjustContrastv2", "AdjustHue", "AdjustSaturation", "HSVToRGB", "RGBToHSV", "ResizeArea",
            "ResizeBicubic", "ResizeBilinear", "ResizeNearestNeighbor", "ScaleAndTranslate", "RandomCrop",
            "EncodePng"},
       {In("T")});
  Rows(&t, {"DecodeJpeg", "DecodeAndCropJpeg", "DecodeImage", "DecodePng", "EncodeJpeg", "ExtractJpegShape"}, {});
  // sluice's own ops (gradient helpers): no TensorFlow counterpart, so a
  // GraphDef holding them loads only in sluice.
  Rows(&t, {"SluiceSumToShapeOf", "SluiceBroadcastReduced", "SluiceSliceGrad", "SluiceProdGrad",
            "SluiceStridedSliceGrad"},
       {In("T")});
  return t;
}

const Table& GetTable() {
  static const Table* table = new Table(Build());
  return *table;
}

}  // namespace

const TfOpInfo* FindTfOp(std::string_view sluice_op) {
  const Table& t = GetTable();
  auto it = t.find(sluice_op);
  return it == t.end() ? nullptr : &it->second;
}

std::string SluiceOpForTfOp(std::string_view tf_op) {
  for (const auto& [op, info] : GetTable()) {
    if (!info.tf_op.empty() && info.tf_op == tf_op) return op;
  }
  return std::string(tf_op);
}

std::vector<std::string> TfOpTableOps() {
  std::vector<std::string> out;
  for (const auto& [op, info] : GetTable()) out.push_back(op);
  return out;
}

}  // namespace sluice::internal
