"""sluice: a fast input pipeline for training jobs, with tf.data / tf.io names.

Batches, not records, cross from C++ into Python: reading, shuffling,
parsing and batching run on sluice's C++ threads, and each batch arrives
as numpy arrays over the C++ buffers (no copy), which PyTorch takes through
DLPack (``Dataset.as_torch``).

Modules:
  sluice.io      TFRecord reading and writing, tf.train.Example parse/serialize
  sluice.data    TFRecordDataset and its transformations
  sluice.errors  exceptions named like TensorFlow's
  sluice.train   Coordinator for Python threads

Queues for Python producer threads: :class:`FIFOQueue`,
:class:`RandomShuffleQueue`.

Dtypes: ``sluice.string``, ``int64``, ``float32``, ``float64``, ``int32``,
``uint8``, ``bool``, ``int8``, ``uint16``, ``float16``.
"""
from sluice import _sluice
from sluice._sluice import DType

string = DType.string
int64 = DType.int64
int32 = DType.int32
float32 = DType.float32
float64 = DType.float64
uint8 = DType.uint8
int8 = DType.int8
uint16 = DType.uint16
float16 = DType.float16
bool = DType.bool  # noqa: A001 (TensorFlow's name)

from sluice import errors  # noqa: E402
from sluice import io  # noqa: E402
from sluice import data  # noqa: E402
from sluice import train  # noqa: E402
from sluice import image  # noqa: E402
from sluice._queues import FIFOQueue, RandomShuffleQueue  # noqa: E402

__all__ = ["DType", "string", "int64", "int32", "float32", "float64", "uint8", "bool",
           "errors", "io", "data", "train", "image", "FIFOQueue", "RandomShuffleQueue"]
__version__ = "0.1.0"
