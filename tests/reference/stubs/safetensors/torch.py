"""safetensors.torch for the pure-Python stand-in (see __init__.py)."""

import json
import struct

import numpy as np
import torch

from . import DTYPES, SafetensorError, parse_header

_TORCH_TO_ST = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}
_ST_TO_TORCH = {v: k for k, v in _TORCH_TO_ST.items()}


def storage_ptr(tensor):
    """Identity of a tensor's storage, as transformers uses it to find
    tensors that share memory."""
    try:
        return tensor.untyped_storage().data_ptr()
    except (AttributeError, NotImplementedError):
        return tensor.storage().data_ptr()


def storage_size(tensor):
    """Size in bytes of a tensor's storage."""
    try:
        return tensor.untyped_storage().nbytes()
    except (AttributeError, NotImplementedError):
        return tensor.storage().size() * tensor.element_size()


def _bytes_to_tensor(raw, dtype, shape):
    if dtype == "BF16":
        arr = np.frombuffer(raw, dtype="<i2").copy()
        t = torch.from_numpy(arr).view(torch.bfloat16)
    else:
        arr = np.frombuffer(raw, dtype=DTYPES[dtype][0]).copy()
        t = torch.from_numpy(arr)
    return t.reshape(shape)


def _tensor_to_bytes(t):
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    if t.dtype not in _TORCH_TO_ST:
        raise SafetensorError("dtype %s cannot be stored" % t.dtype)
    return t.numpy().astype(DTYPES[_TORCH_TO_ST[t.dtype]][0]).tobytes()


def load(data, device="cpu"):
    header, _, start = parse_header(data)
    out = {}
    for name in sorted(header):
        info = header[name]
        b, e = info["data_offsets"]
        out[name] = _bytes_to_tensor(data[start + b:start + e], info["dtype"], info["shape"])
    return out


def load_file(filename, device="cpu"):
    with open(filename, "rb") as f:
        data = f.read()
    return load(data, device=device)


def save(tensors, metadata=None):
    """Serialise like the real library: tensors ordered by dtype size (largest
    first) then by name, header JSON without spaces, padded with spaces to a
    multiple of 8 so the data start is aligned."""
    for name, t in tensors.items():
        if not isinstance(t, torch.Tensor):
            raise SafetensorError("%s is not a torch.Tensor" % name)
    names = sorted(tensors, key=lambda n: (-DTYPES[_TORCH_TO_ST[tensors[n].dtype]][1], n))
    header = {}
    if metadata is not None:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name in names:
        t = tensors[name]
        blob = _tensor_to_bytes(t)
        header[name] = {
            "dtype": _TORCH_TO_ST[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(blob)],
        }
        blobs.append(blob)
        offset += len(blob)
    hjson = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    return struct.pack("<Q", len(hjson)) + hjson + b"".join(blobs)


def save_file(tensors, filename, metadata=None):
    data = save(tensors, metadata=metadata)
    with open(filename, "wb") as f:
        f.write(data)
