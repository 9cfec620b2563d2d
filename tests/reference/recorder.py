"""Writing .npy files and case descriptions, and recording what diffusers
does inside a pipeline call (random draws, UNet calls, add_noise, VAE
encodes) by wrapping functions at run time."""

import contextlib
import json
import os
import sys

import numpy as np
import torch


class Writer:
    """Saves arrays under out_dir/ref/ and returns their descriptions."""

    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.ref_dir = os.path.join(data_dir, "ref")

    def npy(self, rel, array, dtype=np.float32):
        if isinstance(array, torch.Tensor):
            array = array.detach().cpu()
            if array.dtype == torch.bfloat16:
                array = array.float()
            array = array.numpy()
        array = np.ascontiguousarray(np.asarray(array, dtype=dtype))
        path = os.path.join(self.ref_dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        np.save(path, array, allow_pickle=False)
        return {"file": os.path.relpath(path, self.data_dir), "shape": list(array.shape),
                "dtype": str(array.dtype)}

    def ids(self, rel, array):
        return self.npy(rel, array, dtype=np.int32)


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False, sort_keys=False)
        f.write("\n")


@contextlib.contextmanager
def record_randn():
    """Wrap diffusers' randn_tensor in every module that imported it, so each
    draw from the pipeline's generator is recorded in call order with the
    module that made it."""
    from diffusers.utils import torch_utils
    orig = torch_utils.randn_tensor
    calls = []

    def wrapper(shape, generator=None, device=None, dtype=None, layout=None):
        import inspect
        caller = inspect.stack()[1]
        where = "%s.%s" % (caller.frame.f_globals.get("__name__", "?"), caller.function)
        out = orig(shape, generator=generator, device=device, dtype=dtype, layout=layout)
        calls.append({"by": where, "shape": list(out.shape), "tensor": out.detach().clone()})
        return out

    patched = []
    for name, mod in list(sys.modules.items()):
        if name.startswith("diffusers") and mod is not None and getattr(mod, "randn_tensor", None) is orig:
            setattr(mod, "randn_tensor", wrapper)
            patched.append(mod)
    try:
        yield calls
    finally:
        for mod in patched:
            setattr(mod, "randn_tensor", orig)


@contextlib.contextmanager
def record_calls(obj, attr, keep_args=True):
    """Wrap obj.attr (a bound method or module forward) and record inputs and outputs."""
    orig = getattr(obj, attr)
    had_own = attr in obj.__dict__
    calls = []

    def wrapper(*args, **kwargs):
        out = orig(*args, **kwargs)
        calls.append({"args": args if keep_args else None, "kwargs": kwargs if keep_args else None, "out": out})
        return out

    setattr(obj, attr, wrapper)
    try:
        yield calls
    finally:
        if had_own:
            setattr(obj, attr, orig)
        else:
            delattr(obj, attr)


def stats(t):
    t = t.detach().float()
    return "mean %+.4f std %.4f min %+.3f max %+.3f nan %d" % (
        t.mean().item(), t.std().item(), t.min().item(), t.max().item(), int(torch.isnan(t).sum()))
