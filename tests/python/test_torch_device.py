"""ds.as_torch(device=...): the prefetch-to-device logic with a fake copier
(no GPU needed), the error without CUDA, and the CPU path's tensors."""
import numpy as np
import pytest

import sluice
from sluice import data


class FakeCopier:
    """Records start/finish calls like a device copier that issues async copies."""

    def __init__(self):
        self.log = []

    def start(self, element):
        self.log.append(("start", element))
        return ("copy", element)

    def finish(self, handle):
        self.log.append(("finish", handle[1]))
        return handle[1] * 10


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_prefetch_keeps_depth_copies_in_flight_behind_the_one_handed_out(depth):
    copier = FakeCopier()
    n = 7
    out = []
    for got in data._prefetch_to_device(iter(range(n)), copier, depth):
        k = got // 10
        out.append(got)
        started = [e for op, e in copier.log if op == "start"]
        finished = [e for op, e in copier.log if op == "finish"]
        # Batches k+1 .. k+depth have their copies issued while k is used;
        # only k (and those before it) have been waited for.
        assert started == list(range(min(k + depth, n - 1) + 1))
        assert finished == list(range(k + 1))
    assert out == [10 * i for i in range(n)]


def test_prefetch_stops_at_the_source_end_and_passes_errors():
    assert list(data._prefetch_to_device(iter([]), FakeCopier(), 2)) == []

    def failing():
        yield 1
        raise sluice.errors.DataLossError("corrupted record at 12")
    it = data._prefetch_to_device(failing(), FakeCopier(), 2)
    with pytest.raises(sluice.errors.DataLossError):
        list(it)


def test_map_tensors_walks_dicts_tuples_and_sparse_values():
    sp = sluice.io.SparseTensorValue(1, 2, 3)
    got = data._map_tensors(lambda x: x + 1, {"a": 1, "b": (2, sp)})
    assert got == {"a": 2, "b": (3, sluice.io.SparseTensorValue(2, 3, 4))}
    assert isinstance(got["b"][1], sluice.io.SparseTensorValue)


def _dataset(tmp_path):
    path = str(tmp_path / "r.tfrecord")
    with sluice.io.TFRecordWriter(path) as w:
        for i in range(20):
            w.write(sluice.io.serialize_example({"id": [i], "image": [bytes([i]) * 8]}))
    spec = {"id": sluice.io.FixedLenFeature([], sluice.int64),
            "image": sluice.io.FixedLenFeature([], sluice.string)}
    return (sluice.data.TFRecordDataset(path)
            .map(sluice.io.parse_example_fn(spec, decode_raw={"image": sluice.uint8})).batch(6))


def test_cpu_tensors_share_the_batch_buffers(tmp_path):
    torch = pytest.importorskip("torch")
    ids = []
    for b in _dataset(tmp_path).as_torch("cpu"):
        assert b["image"].device.type == "cpu" and b["image"].dtype == torch.uint8
        assert (b["image"][:, 0] == b["id"]).all()
        ids += b["id"].tolist()
    assert ids == list(range(20))


def test_cuda_without_cuda_is_a_clear_error(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("torch has CUDA here (test_torch_cuda_gpu.py covers it)")
    with pytest.raises(ValueError, match="no CUDA"):
        _dataset(tmp_path).as_torch(device="cuda")
    with pytest.raises(ValueError, match="cpu or cuda"):
        _dataset(tmp_path).as_torch(device="meta")


class FakeTorch:
    """The torch.cuda calls _TorchCudaCopier makes, recorded in one log."""

    def __init__(self):
        self.log = []
        self.current = None  # the stream of the `with torch.cuda.stream(...)` block
        fake = self

        class Tensor:
            def __init__(self, name, pinned=False, device="cpu"):
                self.name, self.pinned, self.device = name, pinned, device

            def is_pinned(self):
                return self.pinned

            def pin_memory(self):
                fake.log.append(("pin", self.name))
                return Tensor(self.name, pinned=True)

            def to(self, device, non_blocking=False):
                assert self.pinned and non_blocking and fake.current is not None
                fake.log.append(("copy", self.name, fake.current.name))
                return Tensor(self.name, device=device)

            def record_stream(self, stream):
                fake.log.append(("record_stream", self.name, stream.name))

        class Stream:
            def __init__(self, name="side", device=None):
                self.name = name

            def wait_event(self, event):
                fake.log.append(("wait", self.name, event.name))

        class StreamContext:
            def __init__(self, stream):
                self.stream = stream

            def __enter__(self):
                fake.current = self.stream

            def __exit__(self, *exc):
                fake.current = None

        class Event:
            count = 0

            def __init__(self):
                Event.count += 1
                self.name = "event%d" % Event.count

            def record(self, stream):
                fake.log.append(("record", self.name, stream.name))

        consumer = Stream("consumer")

        class Cuda:
            pass
        self.Tensor = Tensor
        self.cuda = Cuda()
        self.cuda.Stream = Stream
        self.cuda.stream = StreamContext
        self.cuda.Event = Event
        self.cuda.current_stream = lambda device=None: consumer


def test_cuda_copier_pins_copies_on_a_side_stream_and_orders_the_consumer_after_it():
    torch = FakeTorch()
    copier = data._TorchCudaCopier(torch, "cuda:0")
    batches = [{"image": torch.Tensor("img%d" % i), "id": torch.Tensor("id%d" % i),
                "raw": np.array([b"x"], dtype=object)} for i in range(3)]
    out = list(data._prefetch_to_device(iter(batches), copier, 2))
    assert [b["image"].device for b in out] == ["cuda:0"] * 3
    assert out[0]["raw"] is batches[0]["raw"]  # bytes stay on the host
    log = torch.log
    # Batch 0: pinned, copied on the side stream, its event recorded after
    # the copies; batches 1 and 2 are issued before batch 0 is handed out.
    assert log[:5] == [("pin", "img0"), ("copy", "img0", "side"), ("pin", "id0"),
                       ("copy", "id0", "side"), ("record", "event1", "side")]
    first_wait = log.index(("wait", "consumer", "event1"))
    assert log.index(("record", "event3", "side")) < first_wait
    assert log[first_wait + 1:first_wait + 3] == [("record_stream", "img0", "consumer"),
                                                  ("record_stream", "id0", "consumer")]
    assert [e for e in log if e[0] == "wait"] == [("wait", "consumer", "event%d" % i)
                                                  for i in (1, 2, 3)]
    # A tensor already pinned is not copied again on the host.
    torch.log.clear()
    copier.finish(copier.start(torch.Tensor("p", pinned=True)))
    assert [e[0] for e in torch.log] == ["copy", "record", "wait", "record_stream"]
