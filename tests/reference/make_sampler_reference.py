#!/usr/bin/python3
"""Reference data for Sfumato's RNG, schedules and samplers (tests/data/sampler).

Run by hand, outside CI, with Debian's python3-torch (1.13) and a checkout of
diffusers v0.25.0 (and huggingface_hub v0.20.1, which diffusers imports):

    PYTHONPATH=/work/ref-sampler/diffusers/src:/work/ref-sampler/hfhub/src \
        /usr/bin/python3 tests/reference/make_sampler_reference.py [OUTDIR]

What it writes (see README-sampler.md):
  randn.json + randn-*.npy       torch.randn float32 from CPU generators
  schedules.json                 timesteps/sigmas of each scheduler as set up
                                 for SDXL, per sampler x scheduler x steps
  trajectories.json + traj-*.npy latents after every step of diffusers'
                                 scheduler classes driven by a synthetic
                                 denoiser, in diffusers' SDXL pipelines' order

Only diffusers' schedulers, torch and numpy are needed. The SDXL pipelines
import transformers, so the few pipeline methods that decide timesteps and
the order of random draws (get_timesteps, prepare_latents, _encode_vae_image,
retrieve_latents) are taken from the pipeline source files with `ast` and
run as they are; the inline parts of __call__ (denoising_end cut-off, the
loop, the inpaint mask blend) are transcribed below with their line numbers.
"""

import ast
import json
import os
import sys
import types
import typing

import numpy as np
import torch

import diffusers
from diffusers import (
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerAncestralDiscreteScheduler,
    EulerDiscreteScheduler,
    HeunDiscreteScheduler,
)
from diffusers.utils.torch_utils import randn_tensor

assert diffusers.__version__ == "0.25.0", diffusers.__version__
assert torch.__version__.startswith("1.13"), torch.__version__

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "data", "sampler")

# scheduler/scheduler_config.json of stabilityai/stable-diffusion-xl-base-1.0
# (the refiner's is the same).
SDXL_SCHEDULER_CONFIG = {
    "_class_name": "EulerDiscreteScheduler",
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "clip_sample": False,
    "interpolation_type": "linear",
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "sample_max_value": 1.0,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "trained_betas": None,
    "use_karras_sigmas": False,
}

SAMPLERS = ["euler", "euler_a", "dpmpp_2m", "dpmpp_2m_sde", "ddim", "heun"]
SCHEDULERS = ["normal", "karras"]


def make_scheduler(sampler, scheduler):
    """The diffusers scheduler a user sets up for a ComfyUI sampler name."""
    karras = scheduler == "karras"
    cfg = SDXL_SCHEDULER_CONFIG
    if sampler == "euler":
        return EulerDiscreteScheduler.from_config(cfg, use_karras_sigmas=karras)
    if sampler == "euler_a":
        s = EulerAncestralDiscreteScheduler.from_config(cfg)
        if karras:
            # diffusers' EulerAncestralDiscreteScheduler has no Karras sigmas
            # (none up to v0.39). Sfumato's "euler_a + karras" runs diffusers'
            # ancestral step on EulerDiscreteScheduler's Karras schedule; the
            # reference does the same by handing those arrays over.
            s._sfumato_karras_from = EulerDiscreteScheduler.from_config(cfg, use_karras_sigmas=True)
        return s
    if sampler == "dpmpp_2m":
        return DPMSolverMultistepScheduler.from_config(cfg, use_karras_sigmas=karras)
    if sampler == "dpmpp_2m_sde":
        return DPMSolverMultistepScheduler.from_config(
            cfg, use_karras_sigmas=karras, algorithm_type="sde-dpmsolver++")
    if sampler == "ddim":
        assert not karras, "DDIMScheduler has no Karras sigmas"
        return DDIMScheduler.from_config(cfg)
    if sampler == "heun":
        return HeunDiscreteScheduler.from_config(cfg, use_karras_sigmas=karras)
    raise ValueError(sampler)


def set_timesteps(s, steps):
    s.set_timesteps(steps)
    donor = getattr(s, "_sfumato_karras_from", None)
    if donor is not None:
        donor.set_timesteps(steps)
        s.sigmas = donor.sigmas.clone()
        s.timesteps = donor.timesteps.clone()


def combos():
    for sampler in SAMPLERS:
        for scheduler in SCHEDULERS:
            if sampler == "ddim" and scheduler == "karras":
                continue
            yield sampler, scheduler


# --------------------------------------------------------------------------
# Pipeline methods taken from diffusers' source (see the module docstring).

PIPE_DIR = os.path.join(os.path.dirname(diffusers.__file__), "pipelines", "stable_diffusion_xl")


def load_methods(filename, classname, names):
    path = os.path.join(PIPE_DIR, filename)
    tree = ast.parse(open(path).read(), path)
    wanted = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in names:
            wanted.append(node)
        if isinstance(node, ast.ClassDef) and node.name == classname:
            wanted += [n for n in node.body if isinstance(n, ast.FunctionDef) and n.name in names]
    assert sorted(n.name for n in wanted) == sorted(names), (filename, [n.name for n in wanted])
    module = ast.Module(body=wanted, type_ignores=[])
    pil = types.SimpleNamespace(Image=types.SimpleNamespace(Image=type("Image", (), {})))
    namespace = {"torch": torch, "randn_tensor": randn_tensor, "PIL": pil, **vars(typing)}
    exec(compile(module, path, "exec"), namespace)
    return namespace


def load_class(relpath, classname):
    """A class from a diffusers source file whose module imports more than
    torch (vae.py pulls in safetensors through modeling_utils)."""
    path = os.path.join(os.path.dirname(diffusers.__file__), relpath)
    tree = ast.parse(open(path).read(), path)
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == classname)
    namespace = {"torch": torch, "np": np, "randn_tensor": randn_tensor, **vars(typing)}
    exec(compile(ast.Module(body=[node], type_ignores=[]), path, "exec"), namespace)
    return namespace[classname]


DiagonalGaussianDistribution = load_class("models/autoencoders/vae.py", "DiagonalGaussianDistribution")

IMG2IMG = load_methods("pipeline_stable_diffusion_xl_img2img.py", "StableDiffusionXLImg2ImgPipeline",
                       ["retrieve_latents", "get_timesteps", "prepare_latents"])
INPAINT = load_methods("pipeline_stable_diffusion_xl_inpaint.py", "StableDiffusionXLInpaintPipeline",
                       ["retrieve_latents", "get_timesteps", "prepare_latents", "_encode_vae_image"])

VAE_SCALING_FACTOR = 0.13025  # SDXL's vae/config.json
CPU = torch.device("cpu")


class FakeVae:
    """encode() returns the moments it is given ([B, 8, h, w]: mean, logvar),
    wrapped as diffusers' DiagonalGaussianDistribution, so that
    latent_dist.sample(generator) draws as a real VAE encode does."""
    config = types.SimpleNamespace(force_upcast=False, scaling_factor=VAE_SCALING_FACTOR)

    def encode(self, moments):
        return types.SimpleNamespace(latent_dist=DiagonalGaussianDistribution(moments))

    def to(self, *args, **kwargs):
        return self


class FakePipe:
    """The `self` the extracted pipeline methods see."""

    def __init__(self, scheduler, methods):
        self.scheduler = scheduler
        self.vae = FakeVae()
        self.vae_scale_factor = 1  # latents-sized "images"
        self.final_offload_hook = None
        self._methods = methods

    def __getattr__(self, name):
        fn = self._methods[name]
        return lambda *a, **k: fn(self, *a, **k)


# --------------------------------------------------------------------------
# The synthetic denoiser (tests/test-sampler.c implements the same):
#   eps[b,c,h,w] = tanh(a * x[b,c,h,w] + k * t) + m * x[b,(c+1)%C,h,w]
# with t the timestep the UNet would get, as float32.
BASE_MODEL = (0.5, 0.001, 0.05)
REFINER_MODEL = (0.7, -0.0007, -0.03)


def denoise(model, x, t):
    a, k, m = model
    tf = float(np.float32(float(t)))
    return torch.tanh(a * x + k * tf) + m * torch.roll(x, shifts=-1, dims=1)


def moments_for(shape, seed):
    """A deterministic [B, 2C, h, w] VAE posterior (mean, logvar)."""
    b, c, h, w = shape
    idx = np.arange(b * c * h * w, dtype=np.float64).reshape(b, c, h, w)
    mean = 6.0 * np.sin(0.37 * idx + seed)
    logvar = -2.0 + 0.5 * np.cos(0.11 * idx)
    logvar[0, 0, 0, 0] = -40.0  # clamped to -30 by DiagonalGaussianDistribution
    return torch.from_numpy(np.concatenate([mean, logvar], axis=1).astype(np.float32))


def mask_for(shape):
    """A binary [B, 1, h, w] mask: 1 where the latent is regenerated."""
    b, _, h, w = shape
    m = np.zeros((b, 1, h, w), np.float32)
    for i in range(b):
        m[i, 0, :, (w * (i + 1)) // 3:] = 1.0
        m[i, 0, : h // 3, :] = 1.0
    return torch.from_numpy(m)


def run_loop(scheduler, timesteps, latents, model, generator, record, calls, inpaint=None):
    """The denoising loop of StableDiffusionXLPipeline.__call__ (v0.25.0
    pipeline_stable_diffusion_xl.py lines 1203-1236; the inpaint blend from
    pipeline_stable_diffusion_xl_inpaint.py lines 1729-1742), without CFG:
    the engine's model callback returns guided epsilon."""
    extra = {}
    import inspect
    if "generator" in inspect.signature(scheduler.step).parameters:
        extra["generator"] = generator  # prepare_extra_step_kwargs, eta = 0
    if "eta" in inspect.signature(scheduler.step).parameters:
        extra["eta"] = 0.0
    for i, t in enumerate(timesteps):
        model_input = scheduler.scale_model_input(latents, t)
        eps = denoise(model, model_input, t)
        calls.append(float(np.float32(float(t))))
        latents = scheduler.step(eps, t, latents, **extra, return_dict=False)[0]
        if inpaint is not None:
            image_latents, noise, mask = inpaint
            proper = image_latents
            if i < len(timesteps) - 1:
                proper = scheduler.add_noise(proper, noise, torch.tensor([timesteps[i + 1]]))
            latents = (1 - mask) * proper + mask * latents
        record.append(latents.clone())
    return latents


def denoising_end_cut(scheduler, timesteps, denoising_end):
    """pipeline_stable_diffusion_xl.py lines 1177-1191."""
    cutoff = int(round(scheduler.config.num_train_timesteps
                       - (denoising_end * scheduler.config.num_train_timesteps)))
    n = len(list(filter(lambda ts: ts >= cutoff, timesteps)))
    return timesteps[:n]


def trajectory(sampler, scheduler_name, steps, mode, shape, seed):
    gen = torch.Generator("cpu").manual_seed(seed)
    record, calls, parts = [], [], []
    s = make_scheduler(sampler, scheduler_name)
    set_timesteps(s, steps)
    info = {}
    if mode in ("txt2img", "split"):
        # StableDiffusionXLPipeline.prepare_latents: randn * init_noise_sigma
        latents = randn_tensor(shape, generator=gen, dtype=torch.float32) * s.init_noise_sigma
        record.append(latents.clone())
        timesteps = s.timesteps
        if mode == "split":
            timesteps = denoising_end_cut(s, timesteps, 0.8)
        latents = run_loop(s, timesteps, latents, BASE_MODEL, gen, record, calls)
        parts.append(len(timesteps))
        if mode == "split":
            # The refiner: StableDiffusionXLImg2ImgPipeline with
            # denoising_start=0.8 and its own scheduler instance, on the
            # base's latents, same generator.
            r = make_scheduler(sampler, scheduler_name)
            set_timesteps(r, steps)
            pipe = FakePipe(r, IMG2IMG)
            timesteps, _ = pipe.get_timesteps(steps, 0.3, CPU, denoising_start=0.8)
            latents = pipe.prepare_latents(latents, timesteps[:1].repeat(shape[0]), shape[0], 1,
                                           torch.float32, CPU, gen, False)
            latents = run_loop(r, timesteps, latents, REFINER_MODEL, gen, record, calls)
            parts.append(len(timesteps))
    elif mode == "img2img":
        strength = 0.6
        pipe = FakePipe(s, IMG2IMG)
        timesteps, _ = pipe.get_timesteps(steps, strength, CPU, denoising_start=None)
        latent_timestep = timesteps[:1].repeat(shape[0])
        latents = pipe.prepare_latents(moments_for(shape, seed), latent_timestep, shape[0], 1,
                                       torch.float32, CPU, gen, True)
        record.append(latents.clone())
        latents = run_loop(s, timesteps, latents, BASE_MODEL, gen, record, calls)
        parts.append(len(timesteps))
        info["strength"] = strength
    elif mode.startswith("inpaint"):
        strength = 1.0 if mode == "inpaint" else 0.75
        pipe = FakePipe(s, INPAINT)
        timesteps, _ = pipe.get_timesteps(steps, strength, CPU, denoising_start=None)
        latent_timestep = timesteps[:1].repeat(shape[0])
        b, c, h, w = shape
        latents, noise, image_latents = pipe.prepare_latents(
            b, c, h, w, torch.float32, CPU, gen, None, image=moments_for(shape, seed),
            timestep=latent_timestep, is_strength_max=strength == 1.0, add_noise=True,
            return_noise=True, return_image_latents=True)
        record.append(latents.clone())
        latents = run_loop(s, timesteps, latents, BASE_MODEL, gen, record, calls,
                           inpaint=(image_latents, noise, mask_for(shape)))
        parts.append(len(timesteps))
        info["strength"] = strength
    else:
        raise ValueError(mode)
    # One more draw shows where the generator's stream stands at the end.
    after = torch.randn((17,), generator=gen)
    return torch.stack(record).numpy(), calls, parts, after.numpy(), info


def npy_save(name, array):
    np.save(os.path.join(OUT, name), np.ascontiguousarray(array))


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy") or f.endswith(".json"):
            os.remove(os.path.join(OUT, f))

    # --- torch.randn --------------------------------------------------------
    seeds = [0, 1, 42, 2**32 + 7, 2**63 - 1, 123456789]
    # Every seed: n < 16, n % 16 == 0 and n % 16 != 0; then more shapes.
    plan = [(seed, shape) for seed in seeds for shape in [(3,), (16,), (17,)]]
    plan += [(0, (1,)), (1, (15,)), (42, (4, 8)), (2**32 + 7, (31,)), (2**63 - 1, (2, 4, 5, 7)),
             (123456789, (1, 4, 8, 8)), (1, (1000,)), (42, (2, 4, 6, 10)), (0, (4, 128, 128)),
             (123456789, (4, 127, 129)), (2**32 + 7, (1, 4, 8, 8))]
    cases = []
    k = 0
    for seed, shape in plan:
        gen = torch.Generator("cpu").manual_seed(seed)
        name = f"randn-{k:02d}.npy"
        npy_save(name, torch.randn(shape, generator=gen).numpy())
        cases.append({"seed": str(seed), "shapes": [list(shape)], "files": [name]})
        k += 1
    # Consecutive draws on one generator: the stream continues, and the
    # cached second Box-Muller value of the n < 16 path survives in between.
    for seed, seq in [(7, [(3,), (20,), (1,), (5,), (16,)]),
                      (2024, [(2, 4, 5, 7), (2, 4, 5, 7)]),
                      (99, [(1,), (1,), (33,), (2,)])]:
        gen = torch.Generator("cpu").manual_seed(seed)
        files = []
        for j, shape in enumerate(seq):
            name = f"randn-{k:02d}-{j}.npy"
            npy_save(name, torch.randn(shape, generator=gen).numpy())
            files.append(name)
        cases.append({"seed": str(seed), "shapes": [list(s) for s in seq], "files": files})
        k += 1
    # Re-seeding drops the cached value.
    gen = torch.Generator("cpu").manual_seed(5)
    torch.randn((1,), generator=gen)
    gen.manual_seed(5)
    npy_save(f"randn-{k:02d}.npy", torch.randn((3,), generator=gen).numpy())
    cases.append({"seed": "5", "shapes": [[3]], "files": [f"randn-{k:02d}.npy"],
                  "note": "drawn after randn(1) and manual_seed(5) again"})
    json.dump({"cases": cases}, open(os.path.join(OUT, "randn.json"), "w"), indent=1)

    # --- schedules ----------------------------------------------------------
    sched = []
    for sampler, scheduler in combos():
        for steps in (1, 2, 3, 4, 7, 10, 20, 25, 30, 50):
            s = make_scheduler(sampler, scheduler)
            set_timesteps(s, steps)
            init_sigma = s.init_noise_sigma
            init_sigma = float(init_sigma)
            entry = {
                "sampler": sampler, "scheduler": scheduler, "steps": steps,
                "timesteps": [float(t) for t in s.timesteps],
                "init_noise_sigma": init_sigma,
            }
            if hasattr(s, "sigmas") and sampler != "ddim":
                entry["sigmas"] = [float(x) for x in s.sigmas]
            for strength in (0.3, 0.6, 0.75, 1.0):
                pipe = FakePipe(s, IMG2IMG)
                ts, _ = pipe.get_timesteps(steps, strength, CPU, denoising_start=None)
                entry.setdefault("img2img_begin", {})[str(strength)] = len(s.timesteps) - len(ts)
            for frac in (0.5, 0.8):
                entry.setdefault("denoising_end", {})[str(frac)] = len(
                    denoising_end_cut(s, s.timesteps, frac))
                pipe = FakePipe(s, IMG2IMG)
                ts, _ = pipe.get_timesteps(steps, 0.3, CPU, denoising_start=frac)
                entry.setdefault("denoising_start", {})[str(frac)] = len(s.timesteps) - len(ts)
            sched.append(entry)
    s = EulerDiscreteScheduler.from_config(SDXL_SCHEDULER_CONFIG)
    json.dump({"alphas_cumprod": [float(x) for x in s.alphas_cumprod],
               "betas": [float(x) for x in s.betas],
               "schedules": sched},
              open(os.path.join(OUT, "schedules.json"), "w"), indent=0)

    # --- trajectories -------------------------------------------------------
    trajs = []
    k = 0
    modes = ["txt2img", "img2img", "split"]
    for sampler, scheduler in combos():
        for steps in (4, 7):
            for shape in [(1, 4, 8, 8), (2, 4, 5, 7)]:
                for mode in modes + (["inpaint", "inpaint-0.75"] if shape == (2, 4, 5, 7) else []):
                    seed = 1000 + k
                    rec, calls, parts, after, info = trajectory(sampler, scheduler, steps, mode, shape, seed)
                    name = f"traj-{k:03d}.npy"
                    npy_save(name, rec.astype(np.float32))
                    trajs.append(dict(sampler=sampler, scheduler=scheduler, steps=steps, mode=mode,
                                      shape=list(shape), seed=seed, file=name, timesteps=calls,
                                      parts=parts, after=[float(x) for x in after], **info))
                    k += 1
    json.dump({"models": {"base": BASE_MODEL, "refiner": REFINER_MODEL},
               "vae_scaling_factor": VAE_SCALING_FACTOR,
               "trajectories": trajs},
              open(os.path.join(OUT, "trajectories.json"), "w"), indent=0)
    print(f"wrote {len(cases)} randn cases, {len(sched)} schedules, {len(trajs)} trajectories to {OUT}")


if __name__ == "__main__":
    main()
