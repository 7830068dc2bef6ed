"""Exceptions raised by sluice, named and coded like TensorFlow's tf.errors.

Every error from the C++ library (an absl::Status) arrives as the subclass
of :class:`OpError` with TensorFlow's name for its code. Messages name the
file and offset at fault where there is one, e.g.
``DataLossError: corrupted record at 12 in /data/train-00003.tfrecord``;
:attr:`OpError.offset` and :attr:`OpError.file` give them parsed.

End of data in iteration is ``StopIteration``, never OutOfRangeError (which
a queue's dequeue raises once the queue is closed and drained).
"""
import re

__all__ = [
    "OpError", "CancelledError", "UnknownError", "InvalidArgumentError",
    "DeadlineExceededError", "NotFoundError", "AlreadyExistsError",
    "PermissionDeniedError", "ResourceExhaustedError", "FailedPreconditionError",
    "AbortedError", "OutOfRangeError", "UnimplementedError", "InternalError",
    "UnavailableError", "DataLossError", "UnauthenticatedError",
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
    "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
]

# Canonical codes (the same numbers as TensorFlow and absl).
OK = 0
CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
ABORTED = 10
OUT_OF_RANGE = 11
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
DATA_LOSS = 15
UNAUTHENTICATED = 16

_WHERE = re.compile(r" at (\d+)(?: in (.+?))?$")


class OpError(Exception):
    """Base class of sluice's errors (TensorFlow's tf.errors.OpError).

    Attributes:
      message: the C++ error message.
      error_code: the canonical code (an int, e.g. ``errors.DATA_LOSS``).
      offset: the stream offset the message names (``... at OFFSET``), or None.
      file: the file the message names (``... in FILE``), or None.
    """

    default_code = UNKNOWN

    def __init__(self, message, error_code=None):
        super().__init__(message)
        self.message = message
        self.error_code = self.default_code if error_code is None else error_code
        m = _WHERE.search(message)
        self.offset = int(m.group(1)) if m else None
        self.file = m.group(2) if m else None

    def __str__(self):
        return self.message


def _make(name, code, doc):
    cls = type(name, (OpError,), {"default_code": code, "__doc__": doc})
    cls.__module__ = __name__
    return cls


CancelledError = _make("CancelledError", CANCELLED,
                       "An operation was cancelled: a closed queue, a stop request.")
UnknownError = _make("UnknownError", UNKNOWN, "An error of unknown kind.")
InvalidArgumentError = _make("InvalidArgumentError", INVALID_ARGUMENT,
                             "A bad argument: dtype, shape, option value, malformed record.")
DeadlineExceededError = _make("DeadlineExceededError", DEADLINE_EXCEEDED,
                              "A timeout passed before the call could finish.")
NotFoundError = _make("NotFoundError", NOT_FOUND, "A file was not found.")
AlreadyExistsError = _make("AlreadyExistsError", ALREADY_EXISTS, "Something already exists.")
PermissionDeniedError = _make("PermissionDeniedError", PERMISSION_DENIED,
                              "The operating system refused access.")
ResourceExhaustedError = _make("ResourceExhaustedError", RESOURCE_EXHAUSTED,
                               "A size limit was passed (e.g. a record length field).")
FailedPreconditionError = _make("FailedPreconditionError", FAILED_PRECONDITION,
                                "An object was used in the wrong state (e.g. a closed writer).")
AbortedError = _make("AbortedError", ABORTED, "An operation was aborted.")
OutOfRangeError = _make("OutOfRangeError", OUT_OF_RANGE,
                        "A closed queue has fewer elements than asked for.")
UnimplementedError = _make("UnimplementedError", UNIMPLEMENTED, "Not implemented.")
InternalError = _make("InternalError", INTERNAL, "A library failure (zlib, CUDA, ...).")
UnavailableError = _make("UnavailableError", UNAVAILABLE, "A resource is unavailable.")
DataLossError = _make("DataLossError", DATA_LOSS,
                      "Corrupt or truncated data; the message names the file and offset.")
UnauthenticatedError = _make("UnauthenticatedError", UNAUTHENTICATED, "Not authenticated.")
