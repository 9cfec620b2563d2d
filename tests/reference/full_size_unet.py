#!/usr/bin/python3
"""One full-size SDXL UNet evaluation with diffusers, for comparing with
Sfumato's `sfumato unet` on the same random-weight checkpoint (made by
`sfumato make-checkpoint --random --arch sdxl-base`). Run by hand: it
needs ~16 GB of memory and a couple of minutes; the comparison goes in the
issue note, not in CI.

    /usr/bin/python3 tests/reference/full_size_unet.py \
        --checkpoint /work/models/sdxl-base-random.safetensors --out /tmp/full-unet
    sfumato unet --model /work/models/sdxl-base-random.safetensors --precision fp32 \
        --latent /tmp/full-unet/latent.npy --timestep 500 \
        --context /tmp/full-unet/context.npy --pooled /tmp/full-unet/pooled.npy \
        --time-ids /tmp/full-unet/time_ids.npy --output /tmp/full-unet/ours.npy
    /usr/bin/python3 tests/reference/full_size_unet.py --compare /tmp/full-unet

The single-file weights are mapped to diffusers' names with diffusers' own
convert_ldm_unet_checkpoint (imported, not copied), with SDXL base's
published UNet config.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import refenv  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint")
    ap.add_argument("--out")
    ap.add_argument("--compare", help="folder with eps.npy and ours.npy: print the relative L2 error")
    ap.add_argument("--size", type=int, default=32, help="latent side (32 = a 256² image)")
    ap.add_argument("--checkouts", default="/work/ref")
    ap.add_argument("--scratch", default=None)
    args = ap.parse_args()

    import numpy as np
    if args.compare:
        ref = np.load(os.path.join(args.compare, "eps.npy")).astype(np.float64)
        ours = np.load(os.path.join(args.compare, "ours.npy")).astype(np.float64)
        err = np.linalg.norm(ours - ref) / np.linalg.norm(ref)
        print("relative L2 error %.3e (max abs %.3e, |eps| std %.3f)" % (err, np.abs(ours - ref).max(), ref.std()))
        return

    refenv.setup_paths(args.checkouts, args.scratch or os.path.join(args.checkouts, "scratch"))
    refenv.apply_patches()
    import json
    import struct
    import torch
    from diffusers import UNet2DConditionModel
    from diffusers.pipelines.stable_diffusion.convert_from_ckpt import convert_ldm_unet_checkpoint
    import tiny_models as tm

    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    config = dict(tm.SDXL_BASE_UNET)
    # The file's tensors memory-mapped (fp16, zero-copy): only the fp32 model
    # itself takes memory (~10 GB); load_state_dict casts while copying.
    with open(args.checkpoint, "rb") as f:
        header_len = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(header_len))
    data = np.memmap(args.checkpoint, dtype=np.uint8, mode="r", offset=8 + header_len)
    dtypes = {"F16": np.float16, "F32": np.float32}
    unet_sd = {}
    for name, info in header.items():
        if not name.startswith("model.diffusion_model."):
            continue
        begin, end = info["data_offsets"]
        array = data[begin:end].view(dtypes[info["dtype"]]).reshape(info["shape"])
        unet_sd[name] = torch.from_numpy(array)
    converted = convert_ldm_unet_checkpoint(unet_sd, config)
    unet = UNet2DConditionModel(**config)
    unet.load_state_dict(converted, strict=True)
    del converted, unet_sd, data
    unet.eval()

    s = args.size
    g = torch.Generator().manual_seed(1234)
    latent = torch.randn([2, 4, s, s], generator=g)
    context = torch.randn([2, 77, 2048], generator=g)
    pooled = torch.randn([2, 1280], generator=g)
    side = float(8 * s)
    time_ids = torch.tensor([[side, side, 0.0, 0.0, side, side]] * 2)
    with torch.no_grad():
        eps = unet(latent, 500.0, encoder_hidden_states=context,
                   added_cond_kwargs={"text_embeds": pooled, "time_ids": time_ids}).sample
    os.makedirs(args.out, exist_ok=True)
    for name, t in (("latent", latent), ("context", context), ("pooled", pooled),
                    ("time_ids", time_ids), ("eps", eps)):
        np.save(os.path.join(args.out, name + ".npy"), t.numpy().astype(np.float32))
    print("eps mean %.4f std %.4f; wrote %s" % (eps.mean(), eps.std(), args.out))


if __name__ == "__main__":
    main()
