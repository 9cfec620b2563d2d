#!/usr/bin/python3
"""Fixtures for Sfumato's invisible watermark (render/watermark.c) from the
invisible-watermark library itself (imwatermark, "dwtDct" method).

    watermark_reference.py make            writes tests/data/watermark/
    watermark_reference.py read PNG...     records what imwatermark reads
                                           from PNGs (Sfumato's CLI output)

It imports imwatermark from a source checkout and copies none of its code.
See README-watermark.md for the setup.
"""
import json
import os
import sys
import types

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "watermark")
READS = os.path.join(OUT, "imwatermark-reads.json")

# imwatermark/__init__ imports its rivaGan method, which imports torch at
# the top; dwtDct never touches it, so an empty module stands in.
sys.modules.setdefault("torch", types.ModuleType("torch"))
from imwatermark import WatermarkDecoder, WatermarkEncoder  # noqa: E402

TAG = b"SFMT"
# Stability-AI/generative-models, sgm/inference/helpers.py: WATERMARK_MESSAGE.
SDXL_MESSAGE = 0xB3EC907BB19E
SDXL_BITS = [int(bit) for bit in bin(SDXL_MESSAGE)[2:]]

# Two pictures that look natural to the transform: smooth colour
# gradients, soft blobs and a little texture. One has odd sides (the
# library crops to multiples of 4, the blocks to multiples of 8).
PICTURES = {"gradient-288x256": (288, 256, 1), "blobs-301x257": (301, 257, 2)}


def make_picture(width, height, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    rgb = np.empty((height, width, 3))
    for c in range(3):
        phase, freq = rng.uniform(0, 6.28), rng.uniform(0.006, 0.03)
        rgb[..., c] = 128 + 70 * np.sin(phase + freq * x + 0.6 * freq * y)
    for _ in range(5):
        bx, by, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(15, 70)
        colour = rng.uniform(-60, 60, 3)
        weight = np.exp(-((x - bx) ** 2 + (y - by) ** 2) / (r * r))
        rgb += weight[..., None] * colour
    # Texture: small soft specks of blue or yellow, about one per 50
    # pixels, as in flowers or foliage. The library's dwtDct needs them: it
    # moves the largest entry of each low-band block, and where a block is
    # smooth another entry overtakes the moved one and the bit reads wrong
    # (on the smooth picture alone it does not read its own mark).
    centres = (rng.random((height, width)) < 0.02) * np.sign(rng.uniform(-1, 1, (height, width)))
    specks = cv2.GaussianBlur(centres, (0, 0), 0.9)
    rgb += (480 * specks)[..., None] * np.array([0.5, 0.3, 1.0])
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def save(name, rgb):
    path = os.path.join(OUT, name)
    # cv2 writes BGR arrays; the file holds RGB.
    assert cv2.imwrite(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"{path}: {os.path.getsize(path)} bytes")


def encode_bytes(rgb, message):
    encoder = WatermarkEncoder()
    encoder.set_watermark("bytes", message)
    bgr = encoder.encode(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), "dwtDct")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def encode_sdxl(rgb):
    """As the SDXL scripts mark a sample: float32 BGR in 0 … 255 into the
    encoder (cv2 then converts colours in floating point and nothing is
    truncated), clamped, and stored as 8 bits by truncation as their
    sampling script's astype(np.uint8) does."""
    encoder = WatermarkEncoder()
    encoder.set_watermark("bits", SDXL_BITS)
    bgr = rgb[:, :, ::-1].astype(np.float32)
    marked = encoder.encode(np.ascontiguousarray(bgr), "dwtDct")
    marked = np.clip(marked, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(marked[:, :, ::-1])


def read(path):
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    tag = WatermarkDecoder("bytes", 32).decode(bgr, "dwtDct")
    bits = WatermarkDecoder("bits", 48).decode(bgr, "dwtDct")
    return {
        "bytes32": tag.decode("latin-1"),
        "sdxl_matching_bits": int(np.sum(np.array(bits) == np.array(SDXL_BITS))),
    }


def make():
    os.makedirs(OUT, exist_ok=True)
    for name, (width, height, seed) in PICTURES.items():
        rgb = make_picture(width, height, seed)
        save(f"{name}.png", rgb)
        save(f"{name}-imwatermark-sfmt.png", encode_bytes(rgb, TAG))
    width, height, seed = PICTURES["blobs-301x257"]
    save("blobs-301x257-imwatermark-sdxl.png", encode_sdxl(make_picture(width, height, seed)))


def record(paths):
    reads = {}
    if os.path.exists(READS):
        with open(READS) as f:
            reads = json.load(f)
    for path in paths:
        reads[os.path.basename(path)] = read(path)
        print(path, reads[os.path.basename(path)])
    with open(READS, "w") as f:
        json.dump(reads, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "make":
        make()
    elif len(sys.argv) >= 3 and sys.argv[1] == "read":
        record(sys.argv[2:])
    else:
        sys.exit(__doc__)
