#!/usr/bin/env python3
"""Writes the fuzz seed corpora (run by hand; the outputs are committed).

safetensors-corpus/: valid-* files that must parse, and hostile ones
that must be refused cleanly (the replay test and test-safetensors check
both). prompt-corpus/: the A1111 grammar's examples from
tests/data/prompt-attention-cases.json, and hostile prompts."""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def safetensors(header, data_size, pad=True, length=None):
    text = header if isinstance(header, bytes) else header.encode()
    if pad:
        text += b" " * (-len(text) % 8)
    n = len(text) if length is None else length
    return struct.pack("<Q", n) + text + bytes((i * 7) & 255 for i in range(data_size))


def tensors(entries, metadata=None):
    """entries: (name, dtype, shape); offsets packed in order."""
    sizes = {"F16": 2, "BF16": 2, "F32": 4, "I64": 8, "U8": 1}
    header, offset = {}, 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape in entries:
        n = sizes[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    return json.dumps(header, separators=(",", ":")), offset


def main():
    out = os.path.join(HERE, "safetensors-corpus")
    os.makedirs(out, exist_ok=True)
    seeds = {}
    h, n = tensors([("model.diffusion_model.input_blocks.0.0.weight", "F16", [8, 4, 3, 3]),
                    ("model.diffusion_model.input_blocks.0.0.bias", "F16", [8])],
                   {"format": "pt", "sfumato.unet.head_dim": "8"})
    seeds["valid-unet"] = safetensors(h, n)
    h, n = tensors([("a", "BF16", [3, 5]), ("b", "F32", []), ("ids", "I64", [1, 77]),
                    ("empty", "F16", [0])])
    seeds["valid-mixed-dtypes"] = safetensors(h, n)
    seeds["valid-empty"] = safetensors("{}", 0)
    h, n = tensors([("x", "U8", [5])])
    seeds["valid-unpadded"] = safetensors(h, n, pad=False)

    seeds["short"] = b"\x05\x00\x00"
    seeds["length-past-end"] = safetensors("{}", 0, length=4096)
    seeds["length-over-limit"] = struct.pack("<Q", 100_000_001) + b"{}"
    seeds["length-all-ones"] = b"\xff" * 8 + b"{}"
    seeds["not-json"] = safetensors("{\"a\": {\"dtype\": ", 0)
    seeds["not-object"] = safetensors("[1, 2, 3]", 0)
    seeds["not-utf8"] = safetensors(b"{\"\xc3\x28\":{}}", 0)
    seeds["nul-byte"] = safetensors(b"{\"a\x00\":{}}", 0)
    seeds["deep-nesting"] = safetensors("{\"a\":" + "[" * 5000 + "]" * 5000 + "}", 0)
    seeds["unknown-dtype"] = safetensors(
        '{"w":{"dtype":"Q4_K","shape":[4],"data_offsets":[0,4]}}', 4)
    seeds["negative-dim"] = safetensors(
        '{"w":{"dtype":"F16","shape":[-2],"data_offsets":[0,4]}}', 4)
    seeds["float-dim"] = safetensors(
        '{"w":{"dtype":"F16","shape":[2.5],"data_offsets":[0,4]}}', 4)
    seeds["shape-overflow"] = safetensors(
        '{"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}', 4)
    seeds["bytes-overflow"] = safetensors(
        '{"w":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}}', 0)
    seeds["size-mismatch"] = safetensors(
        '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', 4)
    seeds["offset-past-end"] = safetensors(
        '{"w":{"dtype":"F16","shape":[2],"data_offsets":[8,12]}}', 4)
    seeds["offsets-reversed"] = safetensors(
        '{"w":{"dtype":"F16","shape":[0],"data_offsets":[4,0]}}', 4)
    seeds["offset-huge"] = safetensors(
        '{"w":{"dtype":"F16","shape":[2],"data_offsets":[18446744073709551615,3]}}', 4)
    seeds["overlap"] = safetensors(
        '{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},'
        '"b":{"dtype":"F16","shape":[2],"data_offsets":[2,6]}}', 6)
    seeds["gap"] = safetensors(
        '{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},'
        '"b":{"dtype":"F16","shape":[1],"data_offsets":[4,6]}}', 6)
    seeds["trailing-data"] = safetensors(
        '{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}', 64)
    seeds["duplicate-name"] = safetensors(
        '{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},'
        '"a":{"dtype":"F16","shape":[1],"data_offsets":[2,4]}}', 4)
    seeds["metadata-not-string"] = safetensors('{"__metadata__":{"format":["pt"]}}', 0)
    seeds["tensor-not-object"] = safetensors('{"w":[1,2]}', 0)
    seeds["missing-offsets"] = safetensors('{"w":{"dtype":"F16","shape":[1]}}', 2)
    seeds["too-many-dims"] = safetensors(
        '{"w":{"dtype":"F16","shape":[1,1,1,1,1,1,1,1,1,1],"data_offsets":[0,2]}}', 2)
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


def prompts():
    out = os.path.join(HERE, "prompt-corpus")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(HERE, "..", "data", "prompt-attention-cases.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    seeds = {"case-%02d" % i: c["prompt"].encode() for i, c in enumerate(cases)}
    seeds["deep-open"] = b"(" * 3000 + b"x"
    seeds["deep-balanced"] = b"(" * 1000 + b"x" + b")" * 1000
    seeds["alternating"] = b"(a[" * 500 + b"]:1.5)" * 500
    seeds["many-breaks"] = b"BREAK " * 400
    seeds["escapes"] = b"\\(\\)\\[\\]\\\\" * 100 + b"\\"
    seeds["weights"] = b"(a:1e5)(b:-.)(c:+1.)(d:1..2)(e:  3  )(f:\xe3\x80\x802)" * 20
    seeds["invalid-utf8"] = b"a\xff(b\xc3\x28:1.5)\xe2\x82 BREAK \xf0\x9f"
    seeds["nul"] = b"a\x00(b:2)"
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
    prompts()
