#include "distributed/nccl_allreducer.h"

#include <cstring>

#include "absl/strings/str_cat.h"

#include "core/absl_compat.h"
#include "distributed/allreduce_path.h"

namespace sluice::distributed {
absl::StatusOr<std::unique_ptr<NcclGradientAllreducer>>
NcclGradientAllreducer::Create(World* world, DeviceContext* gpu,
                               AllreduceOptions options) {
  if (gpu == nullptr || gpu->type() != DeviceType::kGPU) {
    return absl::InvalidArgumentError("NCCL allreduce: needs a GPU's context");
  }
  // Rank 0 makes the id; everyone learns whether it could (a failure on
  // rank 0 must not leave the others waiting in the id's broadcast).
  std::string id(kCommunicatorIdBytes, '\0');
  int64_t failed = 0;
  absl::Status made;
  if (world->rank() == 0) {
    absl::StatusOr<std::string> fresh = NewCommunicatorId();
    if (fresh.ok()) {
      id = *std::move(fresh);
    } else {
      made = fresh.status();
      failed = 1;
    }
  }
  SLUICE_RETURN_IF_ERROR(world->AllreduceSum(&failed, 1, "NCCL id made"));
  if (failed != 0) {
    if (!made.ok()) return made;
    return absl::FailedPreconditionError(
        "NCCL allreduce: rank 0 could not make an NCCL id");
  }
  SLUICE_RETURN_IF_ERROR(
      world->Broadcast(id.data(), static_cast<int64_t>(id.size()), "NCCL id"));
  SLUICE_ASSIGN_OR_RETURN(
      std::unique_ptr<DeviceCommunicator> comm,
      NewDeviceCommunicator(gpu, id, world->rank(), world->size(),
                            world->stall_timeout()));
  return std::unique_ptr<NcclGradientAllreducer>(
      new NcclGradientAllreducer(world, gpu, options, std::move(comm)));
}

absl::StatusOr<StepAgreement> NcclGradientAllreducer::Agree(
    int64_t samples, bool stop, std::string_view what) {
  int64_t header[2] = {samples, stop ? 1 : 0};
  SLUICE_RETURN_IF_ERROR(world_->AllreduceSum(header, 2, what));
  return StepAgreement{.total_samples = header[0], .stop = header[1] > 0};
}

absl::Status NcclGradientAllreducer::Prepare(
    const std::vector<TensorShape>& shapes) {
  if (arena_ && shapes == shapes_ &&
      arena_->ref_count() == 1 + static_cast<int64_t>(slots_.size())) {
    return absl::OkStatus();  // free: reused in place
  }
  SLUICE_ASSIGN_OR_RETURN(SlotLayout layout, LayOutSlots(shapes, 0));
  shapes_ = shapes;
  offsets_ = std::move(layout.offsets);
  floats_ = layout.floats;
  slots_.clear();
  arena_ = Buffer::Create(gpu_->allocator(),
                          static_cast<size_t>(floats_) * sizeof(float));
  if (!arena_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "NCCL gradient arena of ", floats_ * 4, " bytes of GPU memory"));
  }
  // Padding stays zero (it is summed too); zeros also stand in for the
  // gradients of a rank without a batch.
  if (static_cast<int64_t>(zeros_.size()) < floats_)
    zeros_.assign(floats_, 0.0f);
  SLUICE_RETURN_IF_ERROR(gpu_->compute_stream()->Memcpy(
      arena(), zeros_.data(), floats_ * sizeof(float)));
  for (size_t i = 0; i < shapes.size(); ++i) {
    slots_.push_back(Tensor::FromBuffer(DType::kFloat32, shapes[i], arena_,
                                        offsets_[i] * sizeof(float)));
  }
  return absl::OkStatus();
}

absl::Status NcclGradientAllreducer::Sum(const std::vector<TensorShape>& shapes,
                                         std::vector<Tensor>* grads,
                                         std::string_view what) {
  if (!grads->empty() && grads->size() != shapes.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(what), ": ", grads->size(), " gradients for ",
                     shapes.size(), " shapes"));
  }
  for (size_t i = 0; i < grads->size(); ++i) {
    const Tensor& g = (*grads)[i];
    if (g.dtype() != DType::kFloat32 || g.shape() != shapes[i]) {
      return absl::InvalidArgumentError(absl::StrCat(
          Sv(what), ": gradient ", i, " is ", Sv(DTypeName(g.dtype())), " ",
          g.shape().DebugString(), ", want float32 ", shapes[i].DebugString()));
    }
  }
  SLUICE_RETURN_IF_ERROR(Prepare(shapes));
  DeviceStream* stream = gpu_->compute_stream();
  for (size_t i = 0; i < shapes.size(); ++i) {
    const size_t bytes =
        static_cast<size_t>(shapes[i].num_elements()) * sizeof(float);
    const void* src = grads->empty() ? static_cast<const void*>(zeros_.data())
                                     : (*grads)[i].raw_data();
    SLUICE_RETURN_IF_ERROR(stream->Memcpy(arena() + offsets_[i], src, bytes));
  }
  const std::vector<Bucket> buckets =
      PlanBuckets(floats_, options_.bucket_bytes);
  for (const Bucket& b : buckets) {
    SLUICE_RETURN_IF_ERROR(comm_->AllReduceSum(arena() + b.offset, b.count));
  }
  buckets_ = static_cast<int64_t>(buckets.size());
  last_bytes_ = floats_ * static_cast<int64_t>(sizeof(float));
  absl::Status waited = comm_->Wait(world_->stall_timeout(), what, {});
  if (absl::IsDeadlineExceeded(waited)) {
    // NCCL cannot say which rank it waited for; MPI can. A rank that
    // stalled after the agreement does not reach this barrier, and the
    // watchdog names it (ending the job). If every rank arrives, NCCL
    // itself hung: its error is returned.
    (void)world_->Barrier(
        absl::StrCat(Sv(what), " (NCCL timed out; which ranks are here?)"));
  }
  SLUICE_RETURN_IF_ERROR(waited);
  grads->assign(slots_.begin(), slots_.end());
  return absl::OkStatus();
}

absl::Status NcclGradientAllreducer::BroadcastVariables(
    Session* session, const std::vector<Variable>& vars) {
  std::vector<Tensor> values;
  int64_t bytes = 0;
  for (const Variable& v : vars) {
    SLUICE_ASSIGN_OR_RETURN(Tensor t, session->ReadVariable(v));
    SLUICE_ASSIGN_OR_RETURN(t, gpu_->CopyToHost(t));  // a no-op for host values
    if (t.dtype() == DType::kString) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot broadcast string variable '", v.op_name(), "'"));
    }
    bytes += static_cast<int64_t>(t.ByteSize());
    values.push_back(std::move(t));
  }
  // Every rank must agree on the size, or the broadcast would mismatch.
  int64_t sizes[2] = {bytes, world_->rank() == 0 ? bytes : 0};
  SLUICE_RETURN_IF_ERROR(world_->AllreduceSum(sizes, 2, "variable sizes"));
  if (sizes[0] != sizes[1] * world_->size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("rank ", world_->rank(), " has ", bytes,
                     " bytes of variables, rank 0 has ", sizes[1],
                     " (different graphs on different ranks?)"));
  }
  if (bytes == 0) return absl::OkStatus();
  RefPtr buf = Buffer::Create(gpu_->allocator(), static_cast<size_t>(bytes));
  if (!buf) {
    return absl::ResourceExhaustedError(
        absl::StrCat("variable broadcast: ", bytes, " bytes of GPU memory"));
  }
  char* dev = static_cast<char*>(buf->data());
  DeviceStream* stream = gpu_->compute_stream();
  int64_t off = 0;
  for (const Tensor& t : values) {
    SLUICE_RETURN_IF_ERROR(
        stream->Memcpy(dev + off, t.raw_data(), t.ByteSize()));
    off += static_cast<int64_t>(t.ByteSize());
  }
  SLUICE_RETURN_IF_ERROR(comm_->Broadcast(dev, bytes, 0));
  if (world_->rank() == 0)
    return comm_->Wait(world_->stall_timeout(), "variable broadcast", {});
  std::vector<Tensor> received;
  off = 0;
  for (const Tensor& t : values) {
    Tensor r(t.dtype(), t.shape());
    SLUICE_RETURN_IF_ERROR(
        stream->Memcpy(r.raw_data(), dev + off, r.ByteSize()));
    off += static_cast<int64_t>(r.ByteSize());
    received.push_back(std::move(r));
  }
  SLUICE_RETURN_IF_ERROR(
      comm_->Wait(world_->stall_timeout(), "variable broadcast", {}));
  for (size_t i = 0; i < vars.size(); ++i) {
    SLUICE_RETURN_IF_ERROR(session->AssignVariable(vars[i], received[i]));
  }
  return absl::OkStatus();
}

}  // namespace sluice::distributed
