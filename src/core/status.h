#pragma once
// Errors are values: absl::Status / absl::StatusOr<T>. Codes keep
// TensorFlow's meanings; the library never throws:
//   OutOfRange         clean end: queue closed and drained, end of file/sequence
//   Cancelled          enqueue on a closed queue, close(cancel), stop requested
//   DataLoss           bad CRC or truncation; the message names file and offset
//   InvalidArgument    wrong dtype/shape/arity, bad option values
//   DeadlineExceeded   a per-call deadline passed before the call could finish
//   FailedPrecondition an object used in the wrong state
//   Internal           a CUDA or library error (names the op)

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SLUICE_STATUS_CONCAT_INNER_(a, b) a##b
#define SLUICE_STATUS_CONCAT_(a, b) SLUICE_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define SLUICE_RETURN_IF_ERROR(expr)                  \
  do {                                                \
    ::absl::Status sluice_status_ = (expr);           \
    if (!sluice_status_.ok()) return sluice_status_;  \
  } while (0)

// `SLUICE_ASSIGN_OR_RETURN(auto x, MakeX());` assigns the value of an
// absl::StatusOr or returns its error from the enclosing function.
#define SLUICE_ASSIGN_OR_RETURN(lhs, rexpr) \
  SLUICE_ASSIGN_OR_RETURN_IMPL_(            \
      SLUICE_STATUS_CONCAT_(sluice_statusor_, __LINE__), lhs, rexpr)
#define SLUICE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();       \
  lhs = std::move(tmp).value()
