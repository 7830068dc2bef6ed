"""ds.as_torch(device="cuda") on a GPU (label gpu; skipped where torch has
no CUDA): batches arrive on the device equal to the CPU path's, through
pinned memory and a side stream, correct even when the consumer's stream
is busy while later copies are issued."""
import pytest

import sluice

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="torch has no CUDA")


def _dataset(tmp_path):
    path = str(tmp_path / "r.tfrecord")
    with sluice.io.TFRecordWriter(path) as w:
        for i in range(1000):
            w.write(sluice.io.serialize_example({"id": [i], "image": [bytes([i % 251]) * 784]}))
    spec = {"id": sluice.io.FixedLenFeature([], sluice.int64),
            "image": sluice.io.FixedLenFeature([], sluice.string)}
    return (sluice.data.TFRecordDataset(path)
            .map(sluice.io.parse_example_fn(spec, decode_raw={"image": sluice.uint8}))
            .batch(128).prefetch(2))


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_cuda_batches_equal_cpu_batches(tmp_path, depth):
    ds = _dataset(tmp_path)
    cpu = [{k: v.clone() for k, v in b.items()} for b in ds.as_torch("cpu")]
    got = []
    for b in ds.as_torch("cuda", prefetch=depth):
        assert b["image"].is_cuda and b["id"].is_cuda
        torch.cuda._sleep(1_000_000)  # keep the consumer stream busy; copies go on beside it
        got.append({k: (v.float() * 1).to(v.dtype) for k, v in b.items()})  # work on it there
    assert len(got) == len(cpu)
    for g, c in zip(got, cpu):
        for k in c:
            assert torch.equal(g[k].cpu(), c[k])
