#include "graph/ops/random_ops.h"

#include "absl/synchronization/mutex.h"

#include "graph/internal/op_util.h"
#include "kernels/random_ops.h"

namespace sluice {
namespace ops {
namespace {

// TensorFlow's random_seed.get_seed.
std::pair<int64_t, int64_t> OpSeeds(const Scope& scope, int64_t op_seed) {
  constexpr int64_t kDefaultGraphSeed = 87654321;
  std::optional<int64_t> graph_seed = scope.graph()->seed();
  if (graph_seed.has_value()) {
    return {*graph_seed, op_seed != 0 ? op_seed : scope.graph()->NextOpSeed()};
  }
  if (op_seed != 0) return {kDefaultGraphSeed, op_seed};
  return {0, 0};
}

Output RandomOp(const Scope& scope, const char* op, const char* name, const Input& shape,
                double a, double b, RandomOptions options) {
  Output s = shape.ToOutput(scope);
  auto [seed, seed2] = OpSeeds(scope, options.seed);
  return internal::BuildOp(scope, op, name, {s},
                           {{"dtype", options.dtype},
                            {"a", a},
                            {"b", b},
                            {"seed", seed},
                            {"seed2", seed2}});
}

}  // namespace

Output RandomNormal(const Scope& scope, const Input& shape, double mean, double stddev,
                    RandomOptions options) {
  return RandomOp(scope, "RandomStandardNormal", "random_normal", shape, mean, stddev, options);
}
Output TruncatedNormal(const Scope& scope, const Input& shape, double mean, double stddev,
                       RandomOptions options) {
  return RandomOp(scope, "TruncatedNormal", "truncated_normal", shape, mean, stddev, options);
}
Output RandomUniform(const Scope& scope, const Input& shape, double minval, double maxval,
                     RandomOptions options) {
  return RandomOp(scope, "RandomUniform", "random_uniform", shape, minval, maxval, options);
}

Output RandomShuffle(const Scope& scope, const Input& x, int64_t seed) {
  Output in = x.ToOutput(scope);
  auto [s1, s2] = OpSeeds(scope, seed);
  return internal::BuildOp(scope, "RandomShuffle", "RandomShuffle", {in},
                           {{"seed", s1}, {"seed2", s2}});
}

}  // namespace ops

namespace internal {

void RegisterRandomOps(OpRegistry* ops, KernelRegistry* kernels) {
  OpDef shuffle{"RandomShuffle", shape_fns::UnchangedShape};
  shuffle.stateful = true;
  RegisterOp(ops, std::move(shuffle));
  RegisterCpuKernel(kernels, "RandomShuffle", [](OpKernelContext* ctx) -> absl::Status {
    const Tensor& in = ctx->input(0);
    if (in.rank() == 0 || in.dim(0) <= 1) {
      ctx->set_output(0, in);
      return absl::OkStatus();
    }
    SLUICE_ASSIGN_OR_RETURN(int64_t seed, ctx->GetAttr<int64_t>("seed"));
    SLUICE_ASSIGN_OR_RETURN(int64_t seed2, ctx->GetAttr<int64_t>("seed2"));
    SLUICE_ASSIGN_OR_RETURN(
        std::shared_ptr<RandomState> state,
        ctx->resources()->LookupOrCreate<RandomState>(
            &ctx->node(), [&]() -> absl::StatusOr<std::shared_ptr<RandomState>> {
              return std::make_shared<RandomState>(static_cast<uint64_t>(seed),
                                                   static_cast<uint64_t>(seed2));
            }));
    const int64_t n = in.dim(0);
    std::vector<int64_t> perm(n);
    for (int64_t i = 0; i < n; ++i) perm[i] = i;
    {
      absl::MutexLock l(&state->mu);
      for (int64_t i = n - 1; i > 0; --i) {
        std::swap(perm[i], perm[state->rng.Uniform(static_cast<uint64_t>(i + 1))]);
      }
    }
    Tensor out(in.dtype(), in.shape());
    for (int64_t i = 0; i < n; ++i) Tensor::CopyRows(in, perm[i], &out, i, 1);
    ctx->set_output(0, out);
    return absl::OkStatus();
  });

  for (const char* name : {"RandomStandardNormal", "TruncatedNormal", "RandomUniform"}) {
    OpDef def{name, [](InferenceContext* c) {
                SLUICE_ASSIGN_OR_RETURN(DType dt, c->GetAttr<DType>("dtype"));
                if (const Tensor* s = c->input_constant(0)) {
                  SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> dims, IntValues(*s));
                  c->set_output(0, dt, TensorShape(absl::Span<const int64_t>(dims)));
                } else if (c->input_rank_known(0) && c->input_shape(0).rank() == 1 &&
                           c->input_shape(0).dim(0) >= 0) {
                  TensorShape s;
                  for (int64_t i = 0; i < c->input_shape(0).dim(0); ++i) s.AddDim(-1);
                  c->set_output(0, dt, s);
                } else {
                  c->set_unknown_output(0, dt);
                }
                return absl::OkStatus();
              }};
    def.stateful = true;
    RegisterOp(ops, std::move(def));
    const std::string kind = name;
    RegisterCpuKernel(kernels, name, [kind](OpKernelContext* ctx) {
      SLUICE_ASSIGN_OR_RETURN(std::vector<int64_t> dims, IntValues(ctx->input(0)));
      SLUICE_ASSIGN_OR_RETURN(DType dt, ctx->GetAttr<DType>("dtype"));
      SLUICE_ASSIGN_OR_RETURN(double a, ctx->GetAttr<double>("a"));
      SLUICE_ASSIGN_OR_RETURN(double b, ctx->GetAttr<double>("b"));
      SLUICE_ASSIGN_OR_RETURN(int64_t seed, ctx->GetAttr<int64_t>("seed"));
      SLUICE_ASSIGN_OR_RETURN(int64_t seed2, ctx->GetAttr<int64_t>("seed2"));
      SLUICE_ASSIGN_OR_RETURN(
          std::shared_ptr<RandomState> state,
          ctx->resources()->LookupOrCreate<RandomState>(
              &ctx->node(), [&]() -> absl::StatusOr<std::shared_ptr<RandomState>> {
                return std::make_shared<RandomState>(static_cast<uint64_t>(seed),
                                                     static_cast<uint64_t>(seed2));
              }));
      const TensorShape shape{absl::Span<const int64_t>(dims)};
      Tensor out;
      absl::MutexLock l(&state->mu);
      if (kind == "RandomStandardNormal") {
        SLUICE_RETURN_IF_ERROR(RandomNormal(dt, shape, a, b, &state->rng, &out));
      } else if (kind == "TruncatedNormal") {
        SLUICE_RETURN_IF_ERROR(TruncatedNormal(dt, shape, a, b, &state->rng, &out));
      } else {
        SLUICE_RETURN_IF_ERROR(RandomUniform(dt, shape, a, b, &state->rng, &out));
      }
      ctx->set_output(0, out);
      return absl::OkStatus();
    }, {DType::kFloat32, DType::kFloat64});
  }
}

}  // namespace internal
}  // namespace sluice
