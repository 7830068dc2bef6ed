from sluice import data as data, errors as errors, io as io, train as train
from sluice._queues import FIFOQueue as FIFOQueue, RandomShuffleQueue as RandomShuffleQueue

class DType:
    float32: DType
    float64: DType
    int32: DType
    int64: DType
    uint8: DType
    bool: DType
    string: DType
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...

string: DType
int64: DType
int32: DType
float32: DType
float64: DType
uint8: DType
bool: DType
__version__: str
