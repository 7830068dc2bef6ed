from typing import Any, Dict, Iterator, List, Mapping, NamedTuple, Optional, Sequence, Union

import numpy as np

from sluice import DType

_DTypeLike = Union[DType, str, type, np.dtype]

class TFRecordCompressionType:
    NONE: str
    ZLIB: str
    GZIP: str

class TFRecordOptions:
    compression_type: str
    compression_level: int
    def __init__(self, compression_type: Optional[str] = ..., compression_level: Optional[int] = ...) -> None: ...
    @classmethod
    def get_compression_type_string(cls, options: Union[TFRecordOptions, str, None]) -> str: ...

class _RecordIterator(Iterator[bytes]):
    offset: int
    compression: str
    def __next__(self) -> bytes: ...
    def close(self) -> None: ...

def tf_record_iterator(path: str, options: Union[TFRecordOptions, str, None] = ...,
                       on_corrupt: str = ...) -> _RecordIterator: ...

class TFRecordWriter:
    def __init__(self, path: str, options: Union[TFRecordOptions, str, None] = ...) -> None: ...
    def write(self, record: Union[bytes, bytearray, memoryview]) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> TFRecordWriter: ...
    def __exit__(self, *exc: Any) -> bool: ...

def serialize_example(features: Mapping[str, Any]) -> bytes: ...

class FixedLenFeature(NamedTuple):
    shape: List[int]
    dtype: _DTypeLike
    default_value: Any = ...

class VarLenFeature(NamedTuple):
    dtype: _DTypeLike

class SparseTensorValue(NamedTuple):
    indices: Any
    values: Any
    dense_shape: Any

_Feature = Union[FixedLenFeature, VarLenFeature]
_Parsed = Dict[str, Union[np.ndarray, SparseTensorValue]]

class ParseExampleFn:
    features: Dict[str, _Feature]
    def __init__(self, features: Mapping[str, _Feature],
                 decode_raw: Optional[Mapping[str, _DTypeLike]] = ...) -> None: ...
    def __call__(self, serialized: Union[bytes, Sequence[bytes]]) -> _Parsed: ...

def parse_example_fn(features: Mapping[str, _Feature],
                     decode_raw: Optional[Mapping[str, _DTypeLike]] = ...) -> ParseExampleFn: ...
def parse_example(serialized: Sequence[bytes], features: Mapping[str, _Feature],
                  decode_raw: Optional[Mapping[str, _DTypeLike]] = ...) -> _Parsed: ...
def parse_single_example(serialized: bytes, features: Mapping[str, _Feature],
                         decode_raw: Optional[Mapping[str, _DTypeLike]] = ...) -> _Parsed: ...
def decode_raw(input_bytes: Union[bytes, Sequence[bytes], np.ndarray], out_type: _DTypeLike,
               little_endian: bool = ...) -> np.ndarray: ...
