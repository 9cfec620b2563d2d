"""A small pure-Python stand-in for the `safetensors` package.

Only what diffusers and transformers use for local files is here:
``safe_open`` (keys, get_tensor, metadata), ``safetensors.torch.load_file``,
``save_file``, ``load`` and ``save``.  Written for Sfumato's reference
script because Debian ships no python3-safetensors.

File layout (https://github.com/huggingface/safetensors, "Format"):
  8 bytes   little-endian u64 N, the header size
  N bytes   JSON: {name: {"dtype", "shape", "data_offsets": [begin, end]},
                   "__metadata__": {str: str}}  (padded with spaces)
  rest      raw little-endian tensor data, offsets relative to its start
"""

import json
import struct

__version__ = "0.4.1+sfumato.stub"

# safetensors dtype name -> (numpy dtype string, element size in bytes)
DTYPES = {
    "F64": ("<f8", 8),
    "F32": ("<f4", 4),
    "F16": ("<f2", 2),
    "BF16": ("<u2", 2),  # no numpy bf16: raw 16-bit words, viewed by torch
    "I64": ("<i8", 8),
    "I32": ("<i4", 4),
    "I16": ("<i2", 2),
    "I8": ("i1", 1),
    "U8": ("u1", 1),
    "BOOL": ("?", 1),
}


class SafetensorError(Exception):
    pass


def parse_header(data):
    """Return (header dict without __metadata__, metadata dict, data start)."""
    if len(data) < 8:
        raise SafetensorError("file too small for a safetensors header")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise SafetensorError("header size %d runs past the end of the file" % n)
    header = json.loads(bytes(data[8:8 + n]).decode("utf-8"))
    metadata = header.pop("__metadata__", None)
    start = 8 + n
    for name, info in header.items():
        if info["dtype"] not in DTYPES:
            raise SafetensorError("tensor %s has unsupported dtype %s" % (name, info["dtype"]))
        begin, end = info["data_offsets"]
        count = 1
        for d in info["shape"]:
            count *= d
        if end - begin != count * DTYPES[info["dtype"]][1] or start + end > len(data):
            raise SafetensorError("tensor %s has bad data_offsets" % name)
    return header, metadata, start


class _SafeOpen:
    def __init__(self, filename, framework="pt", device="cpu"):
        if framework not in ("pt", "torch", "np", "numpy"):
            raise SafetensorError("framework %r is not supported by this stub" % framework)
        self._framework = framework
        with open(filename, "rb") as f:
            self._data = f.read()
        self._header, self._metadata, self._start = parse_header(self._data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def keys(self):
        # The real library lists names sorted.
        return sorted(self._header.keys())

    def metadata(self):
        return self._metadata

    def get_tensor(self, name):
        info = self._header[name]
        begin, end = info["data_offsets"]
        raw = self._data[self._start + begin:self._start + end]
        if self._framework in ("np", "numpy"):
            import numpy as np
            if info["dtype"] == "BF16":
                raise SafetensorError("numpy has no bfloat16")
            return np.frombuffer(raw, dtype=DTYPES[info["dtype"]][0]).reshape(info["shape"]).copy()
        from .torch import _bytes_to_tensor
        return _bytes_to_tensor(raw, info["dtype"], info["shape"])

    def get_slice(self, name):
        return self.get_tensor(name)


def safe_open(filename, framework="pt", device="cpu"):
    return _SafeOpen(filename, framework=framework, device=device)


from . import torch  # noqa: E402,F401  (makes safetensors.torch available after `import safetensors`)
