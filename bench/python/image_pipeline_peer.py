#!/usr/bin/python3
"""The peer of sluice-bench's pipeline.image.jpeg: what a user writes today
with Pillow and torchvision. Reads class folders of JPEG files, and per
image: PIL open + RGB -> RandomCrop(224) -> RandomHorizontalFlip -> ToTensor
(float32 in [0, 1]), batched 64 by torch.utils.data.DataLoader with
num_workers worker processes.

usage: image_pipeline_peer.py ROOT [--epochs N] [--num-workers W] [--batch-size B]

Prints one JSON line {"images": n, "seconds": s, "images_per_second": r}
measured over the epochs after a first warm-up epoch (the workers persist,
so their start-up is not counted).
"""
import argparse
import json
import os
import time

import torch
from PIL import Image
from torchvision import transforms


class Folder(torch.utils.data.Dataset):
    """ROOT/CLASS/*.jpg with class indices in sorted order."""

    def __init__(self, root, transform):
        classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
        self.items = [(os.path.join(root, c, f), i) for i, c in enumerate(classes)
                      for f in sorted(os.listdir(os.path.join(root, c)))]
        self.transform = transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, label = self.items[i]
        with Image.open(path) as im:
            return self.transform(im.convert("RGB")), label


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("root")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--num-workers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    a = p.parse_args()
    torch.manual_seed(1)
    t = transforms.Compose([transforms.RandomCrop(224), transforms.RandomHorizontalFlip(),
                            transforms.ToTensor()])
    loader = torch.utils.data.DataLoader(Folder(a.root, t), batch_size=a.batch_size,
                                         shuffle=True, num_workers=a.num_workers,
                                         drop_last=True, persistent_workers=a.num_workers > 0)
    for _ in loader:  # warm-up epoch: workers start, files enter the page cache
        pass
    n = 0
    start = time.perf_counter()
    for _ in range(a.epochs):
        for images, labels in loader:
            assert images.dtype == torch.float32 and images.shape[1:] == (3, 224, 224)
            n += images.shape[0]
    seconds = time.perf_counter() - start
    print(json.dumps({"images": n, "seconds": seconds, "images_per_second": n / seconds}))


if __name__ == "__main__":
    main()
