"""Reference outputs under tests/data/ref/ and tests/data/ref/cases.json."""

import math
import os
import shutil

import numpy as np
import torch

import refenv
import tiny_models as tm
from recorder import Writer, record_calls, record_randn, stats, write_json

PROMPT = "a photo of a cat sitting on a red chair"
NEGATIVE = "blurry, low quality"
SEED = 42
STEPS = 4
GUIDANCE = 5.0


# ---------------------------------------------------------------------------
# h. torch.randn


RANDN_CASES = [
    (0, [1, 4, 16, 16]), (1, [1, 4, 16, 16]), (42, [1, 4, 16, 16]), (42, [2, 4, 16, 16]),
    (42, [1, 4, 16, 24]), (42, [1, 4, 128, 128]), (5, [1, 4, 16, 16]), (2**32 + 5, [1, 4, 16, 16]),
    (2**63 - 1, [1, 4, 16, 16]), (2**64 - 1, [64]), (4294967295, [32]), (4294967296, [32]),
    (1234567890123, [1, 4, 8, 8]), (123456789, [1, 4, 13, 13]), (7, [16]), (7, [17]), (7, [15]),
    (7, [1]), (7, [2]), (7, [3]), (7, [8]), (7, [7, 3]), (7, [31]), (7, [33]), (7, [100]),
    (7, [255]), (7, [256]), (7, [1000]), (3, [4, 77]), (99, [1, 4, 96, 128]), (2024, [1, 4, 64, 64]),
]

RANDN_SEQUENCES = [
    (42, [[1, 4, 16, 16], [1, 4, 16, 16]]),
    (42, [[7], [16]]),
    (42, [[3], [3]]),
    (42, [[20], [5], [20]]),
    (11, [[1, 4, 16, 16], [1, 4, 16, 16], [1, 4, 16, 16], [1, 4, 16, 16], [1, 4, 16, 16]]),
]


def randn_cases(args):
    w = Writer(args.out)
    shutil.rmtree(os.path.join(w.ref_dir, "randn"), ignore_errors=True)
    cases = []
    for i, (seed, shape) in enumerate(RANDN_CASES):
        g = torch.Generator("cpu").manual_seed(seed)
        t = torch.randn(shape, generator=g)
        n = int(np.prod(shape))
        d = w.npy("randn/case_%02d.npy" % i, t)
        d.update(seed=seed, seed_str=str(seed), shape=shape, numel=n,
                 path="vectorized (n >= 16)" if n >= 16 else "scalar double (n < 16)")
        cases.append(d)
    seqs = []
    for i, (seed, shapes) in enumerate(RANDN_SEQUENCES):
        g = torch.Generator("cpu").manual_seed(seed)
        calls = []
        for j, shape in enumerate(shapes):
            t = torch.randn(shape, generator=g)
            d = w.npy("randn/seq_%02d_call_%d.npy" % (i, j), t)
            d["shape"] = shape
            calls.append(d)
        seqs.append({"seed": seed, "seed_str": str(seed), "calls": calls})
    write_json(os.path.join(w.ref_dir, "randn", "randn.json"), {
        "description": "torch.randn(shape, generator=torch.Generator('cpu').manual_seed(seed)), float32, torch %s "
                       "(Debian python3-torch) on x86-64. 'sequences': consecutive calls on one generator."
                       % torch.__version__,
        "cases": cases, "sequences": seqs})
    print("randn: %d cases, %d sequences" % (len(cases), len(seqs)))


# ---------------------------------------------------------------------------


def load_pipeline(args, tok_dirs):
    from diffusers import StableDiffusionXLPipeline
    from transformers import CLIPTokenizer
    pipe = StableDiffusionXLPipeline.from_pretrained(
        os.path.join(args.out, "tiny-sdxl"), torch_dtype=torch.float32,
        tokenizer=CLIPTokenizer.from_pretrained(tok_dirs["tokenizer"]),
        tokenizer_2=CLIPTokenizer.from_pretrained(tok_dirs["tokenizer_2"]),
        add_watermarker=False, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    for m in (pipe.unet, pipe.vae, pipe.text_encoder, pipe.text_encoder_2):
        m.eval()
        for p in m.parameters():  # every weight is an fp16 value computed on in fp32
            assert p.dtype == torch.float32 and torch.equal(p, p.half().float())
    return pipe


def encode(pipe, prompt, negative=None, cfg=False, height=None):
    """pipe.encode_prompt, recording the token ids each text encoder saw."""
    seen = {}
    with record_calls(pipe.text_encoder, "forward") as c1, record_calls(pipe.text_encoder_2, "forward") as c2:
        out = pipe.encode_prompt(prompt=prompt, device=torch.device("cpu"), num_images_per_prompt=1,
                                 do_classifier_free_guidance=cfg, negative_prompt=negative)
    seen["l"] = [c["args"][0] for c in c1]
    seen["g"] = [c["args"][0] for c in c2]
    return out, seen


def case_prompts(pipe, w):
    prompts = {
        "main": PROMPT,
        "empty": "",
        "long": ", ".join(["a beautiful landscape painting of mountains and rivers at sunset"] * 8),
        "mixed": "Portrait of an old sailor, oil on canvas, (dramatic lighting), 4k",
    }
    out = {"prompts": {}, "negatives": {}}
    for key, p in prompts.items():
        (pe, _, pooled, _), seen = encode(pipe, p)
        d = {"prompt": p,
             "tokens_l": w.ids("prompts/%s_tokens_l.npy" % key, seen["l"][0]),
             "tokens_g": w.ids("prompts/%s_tokens_g.npy" % key, seen["g"][0]),
             "cond": w.npy("prompts/%s_cond.npy" % key, pe),
             "pooled": w.npy("prompts/%s_pooled.npy" % key, pooled)}
        out["prompts"][key] = d
        print("prompt %-6s cond %s | pooled %s" % (key, stats(pe), stats(pooled)))
    for key, neg in (("none", None), ("empty_string", ""), ("text", NEGATIVE)):
        (pe, npe, pooled, npooled), seen = encode(pipe, PROMPT, negative=neg, cfg=True)
        d = {"negative_prompt": neg,
             "uncond": w.npy("prompts/negative_%s_uncond.npy" % key, npe),
             "uncond_pooled": w.npy("prompts/negative_%s_uncond_pooled.npy" % key, npooled)}
        if neg is not None:
            d["tokens_l"] = w.ids("prompts/negative_%s_tokens_l.npy" % key, seen["l"][1])
            d["tokens_g"] = w.ids("prompts/negative_%s_tokens_g.npy" % key, seen["g"][1])
        assert torch.equal(pe, torch.from_numpy(np.load(os.path.join(w.data_dir, out["prompts"]["main"]["cond"]["file"]))))
        out["negatives"][key] = d
    # time ids as the pipeline builds them (original_size + crop + target_size)
    proj = pipe.text_encoder_2.config.projection_dim
    t1 = pipe._get_add_time_ids((128, 128), (0, 0), (128, 128), torch.float32, text_encoder_projection_dim=proj)
    t2 = pipe._get_add_time_ids((128, 192), (0, 0), (128, 192), torch.float32, text_encoder_projection_dim=proj)
    out["time_ids"] = {"h128_w128": w.npy("prompts/time_ids_h128_w128.npy", t1),
                       "h128_w192": w.npy("prompts/time_ids_h128_w192.npy", t2)}
    out["description"] = (
        "StableDiffusionXLPipeline.encode_prompt. tokens_*: the [1,77] ids each text encoder received "
        "(padding='max_length', truncation=True; encoder 1 pads with 49407, encoder 2 with 0). cond: "
        "concat(hidden_states[-2] of encoder 1 (16 ch), hidden_states[-2] of encoder 2 (32 ch)) = [1,77,48]. "
        "pooled: encoder 2's text_embeds (final_layer_norm at the first EOS (argmax of ids), then "
        "text_projection) [1,32]. Negatives: None -> zeros (force_zeros_for_empty_prompt applies only to None); "
        "'' -> the encoding of the empty string (NOT zeros); text -> its encoding. time_ids: "
        "[orig_h, orig_w, crop_top, crop_left, target_h, target_w].")
    return out, prompts


def case_weighting(pipe, w):
    """b. A1111- and ComfyUI-style weighting of one prompt's cond."""
    import importlib
    pp = importlib.import_module("modules.prompt_parser")
    weighted = "a (red:1.5) cat on a [blue] chair"
    parsed = pp.parse_prompt_attention(weighted)
    tok = pipe.tokenizer
    ids, weights = [tok.bos_token_id], [1.0]
    for text, wt in parsed:
        t = tok(text, add_special_tokens=False).input_ids
        ids += t
        weights += [wt] * len(t)
    ids.append(tok.eos_token_id)
    weights.append(1.0)
    plain = "".join(t for t, _ in parsed)
    (cond, _, _, _), seen = encode(pipe, plain)
    assert seen["l"][0][0, :len(ids)].tolist() == ids, "chunk tokens differ from whole-prompt tokens"
    weights += [1.0] * (77 - len(weights))
    wv = torch.tensor(weights, dtype=torch.float32)
    (empty, _, _, _), _ = encode(pipe, "")

    def a1111(z):
        original_mean = z.mean()
        z = z * wv.reshape(1, 77, 1)
        new_mean = z.mean()
        return z * (original_mean / new_mean)

    split = tm.TINY_TEXT_ENCODER["hidden_size"]
    per_enc = torch.cat([a1111(cond[..., :split]), a1111(cond[..., split:])], dim=-1)
    whole = a1111(cond)
    comfy = empty + wv.reshape(1, 77, 1) * (cond - empty)
    return {
        "weighted_prompt": weighted, "a1111_parse": parsed, "plain_prompt": plain,
        "token_ids_l": ids, "weights": w.npy("weighting/weights.npy", wv),
        "weights_list": weights,
        "cond": w.npy("weighting/cond.npy", cond),
        "empty_cond": w.npy("weighting/empty_cond.npy", empty),
        "a1111_per_encoder": w.npy("weighting/a1111_per_encoder.npy", per_enc),
        "a1111_whole": w.npy("weighting/a1111_whole.npy", whole),
        "comfy": w.npy("weighting/comfy.npy", comfy),
        "description": (
            "cond = encode_prompt(plain_prompt) [1,77,48]; weights [77] per token position (BOS, EOS, pads 1.0), "
            "from A1111's parse of weighted_prompt, each chunk tokenized without BOS/EOS. a1111_*: z = z*w; "
            "z *= mean(z_before)/mean(z_after) (float32 means over all elements), per_encoder = done separately "
            "on channels 0..31 (CLIP-L) and 32..95 (bigG) as A1111 does for SDXL's two embedders, whole = once "
            "over the [1,77,48] tensor. comfy: z = empty + w*(z - empty), empty = encode_prompt('') (not zeros). "
            "The pooled output is not weighted."),
    }


def case_unet(pipe, w, args, conds):
    """c. One UNet evaluation each for the base, 9-channel inpaint and refiner UNets."""
    from diffusers import UNet2DConditionModel
    from safetensors.torch import load_file
    from diffusers.pipelines.stable_diffusion import convert_from_ckpt as cfc
    g = torch.Generator().manual_seed(1234)
    sample = torch.randn([2, 4, 16, 16], generator=g)
    t = torch.tensor(751.0)
    ctx = torch.cat([conds["uncond"], conds["cond"]])
    te = torch.cat([conds["uncond_pooled"], conds["pooled"]])
    tid = torch.tensor([[128.0, 128.0, 0.0, 0.0, 128.0, 128.0]] * 2)
    res = {}
    with torch.no_grad():
        eps = pipe.unet(sample, t, encoder_hidden_states=ctx,
                        added_cond_kwargs={"text_embeds": te, "time_ids": tid}).sample
    print("unet eps", stats(eps))
    res["base"] = {"model": "tiny-sdxl (folder unet/ or tiny-sdxl.safetensors)",
                   "sample": w.npy("unet/base_sample.npy", sample), "timestep": 751.0,
                   "encoder_hidden_states": w.npy("unet/base_context.npy", ctx),
                   "text_embeds": w.npy("unet/base_text_embeds.npy", te),
                   "time_ids": w.npy("unet/base_time_ids.npy", tid),
                   "eps": w.npy("unet/base_eps.npy", eps)}

    # Odd latent sides: 10x14 -> 5x7 -> 3x4 on the way down, so diffusers
    # upsamples to the skip's size (forward_upsample_size). Its own
    # generator, so the other cases' draws stay as they were.
    g_odd = torch.Generator().manual_seed(1236)
    sample_odd = torch.randn([2, 4, 10, 14], generator=g_odd)
    tid_odd = torch.tensor([[80.0, 112.0, 0.0, 0.0, 80.0, 112.0]] * 2)
    with torch.no_grad():
        eps_odd = pipe.unet(sample_odd, t, encoder_hidden_states=ctx,
                            added_cond_kwargs={"text_embeds": te, "time_ids": tid_odd}).sample
    print("unet eps (odd sides)", stats(eps_odd))
    res["base_odd"] = {"model": "tiny-sdxl", "note": "latent 10x14: odd sizes below, upsampled to the skips' sizes",
                       "sample": w.npy("unet/base_odd_sample.npy", sample_odd), "timestep": 751.0,
                       "encoder_hidden_states": res["base"]["encoder_hidden_states"],
                       "text_embeds": res["base"]["text_embeds"],
                       "time_ids": w.npy("unet/base_odd_time_ids.npy", tid_odd),
                       "eps": w.npy("unet/base_odd_eps.npy", eps_odd)}

    def load_unet(fn, cfg):
        sd = load_file(os.path.join(args.out, fn))
        ckpt = {k: v.float() for k, v in sd.items() if k.startswith("model.diffusion_model.")}
        u = UNet2DConditionModel(**cfg)
        u.load_state_dict(cfc.convert_ldm_unet_checkpoint(ckpt, dict(cfg)))
        return u.eval()

    inp = load_unet("tiny-sdxl-inpaint-unet.safetensors", tm.TINY_INPAINT_UNET)
    g = torch.Generator().manual_seed(1235)
    mask = (torch.rand([1, 1, 16, 16], generator=g) > 0.5).float().repeat(2, 1, 1, 1)
    masked = torch.randn([1, 4, 16, 16], generator=g).repeat(2, 1, 1, 1)
    x9 = torch.cat([sample, mask, masked], dim=1)
    with torch.no_grad():
        eps9 = inp(x9, t, encoder_hidden_states=ctx, added_cond_kwargs={"text_embeds": te, "time_ids": tid}).sample
    print("inpaint unet eps", stats(eps9))
    res["inpaint_9ch"] = {"model": "tiny-sdxl-inpaint-unet.safetensors",
                          "sample": w.npy("unet/inpaint_sample.npy", x9), "timestep": 751.0,
                          "sample_channels": "0-3 latents (already scaled by the scheduler), 4 mask (1 = repaint), "
                                             "5-8 masked-image latents, as the inpaint pipeline concatenates them",
                          "encoder_hidden_states": res["base"]["encoder_hidden_states"],
                          "text_embeds": res["base"]["text_embeds"], "time_ids": res["base"]["time_ids"],
                          "eps": w.npy("unet/inpaint_eps.npy", eps9)}

    ref = load_unet("tiny-sdxl-refiner.safetensors", tm.TINY_REFINER_UNET)
    ctx_g = torch.cat([conds["uncond_g"], conds["cond_g"]])
    tid5 = torch.tensor([[128.0, 128.0, 0.0, 0.0, 2.5], [128.0, 128.0, 0.0, 0.0, 6.0]])
    with torch.no_grad():
        eps_r = ref(sample, t, encoder_hidden_states=ctx_g,
                    added_cond_kwargs={"text_embeds": te, "time_ids": tid5}).sample
    print("refiner unet eps", stats(eps_r))
    res["refiner"] = {"model": "tiny-sdxl-refiner.safetensors (BF16; computed in fp32 from the BF16 values)",
                      "sample": res["base"]["sample"], "timestep": 751.0,
                      "encoder_hidden_states": w.npy("unet/refiner_context.npy", ctx_g),
                      "context_note": "bigG penultimate hidden states only (channels 16..47 of the base cond), "
                                      "computed with tiny-sdxl's fp16 text_encoder_2",
                      "text_embeds": res["base"]["text_embeds"],
                      "time_ids": w.npy("unet/refiner_time_ids.npy", tid5),
                      "time_ids_note": "[orig_h, orig_w, crop_top, crop_left, aesthetic_score]; "
                                       "uncond row 2.5, cond row 6.0 (diffusers' defaults)",
                      "eps": w.npy("unet/refiner_eps.npy", eps_r)}
    res["description"] = ("UNet2DConditionModel(sample, timestep, encoder_hidden_states, "
                          "added_cond_kwargs={text_embeds, time_ids}).sample; batch row 0 = uncond, row 1 = cond "
                          "(diffusers' CFG order).")
    return res


def make_init_image():
    """A deterministic 128x128 RGB test picture: gradients, a disc, stripes."""
    y, x = np.mgrid[0:128, 0:128].astype(np.float64)
    r = 127 + 120 * np.sin(x / 9.0) * np.cos(y / 13.0)
    g = 2 * x * (x < 64) + (255 - 2 * (x - 64)) * (x >= 64)
    b = 255 * ((x - 70) ** 2 + (y - 50) ** 2 < 30 ** 2) + 40 * ((y // 8) % 2)
    img = np.stack([r, g * 0.9 + y * 0.1, np.clip(b, 0, 255)], axis=-1)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def make_mask():
    m = np.zeros((128, 128), np.uint8)
    m[24:88, 40:104] = 255  # rows (y) 24..87, columns (x) 40..103 repainted
    return m


def case_vae(pipe, w, init_u8):
    g = torch.Generator().manual_seed(4321)
    z = torch.randn([1, 4, 16, 16], generator=g) / pipe.vae.config.scaling_factor
    z_wide = torch.randn([1, 4, 16, 24], generator=g) / pipe.vae.config.scaling_factor
    x = torch.from_numpy(init_u8).permute(2, 0, 1)[None].float() / 255.0 * 2 - 1
    with torch.no_grad():
        dec = pipe.vae.decode(z).sample
        dec_wide = pipe.vae.decode(z_wide).sample
        dist = pipe.vae.encode(x).latent_dist
        smp = dist.sample(generator=torch.Generator().manual_seed(777))
    print("vae decode", stats(dec), "| encode mean", stats(dist.mean), "std", stats(dist.std))
    return {
        "decode": {"latent": w.npy("vae/decode_in.npy", z), "image": w.npy("vae/decode_out.npy", dec),
                   "note": "vae.decode(latent).sample, raw (not clamped); latent = pipeline latents / 0.13025"},
        "decode_wide": {"latent": w.npy("vae/decode_wide_in.npy", z_wide),
                        "image": w.npy("vae/decode_wide_out.npy", dec_wide),
                        "note": "latent H=16 W=24 -> image H=128 W=192"},
        "encode": {"image": w.npy("vae/encode_in.npy", x), "mean": w.npy("vae/encode_mean.npy", dist.mean),
                   "std": w.npy("vae/encode_std.npy", dist.std),
                   "logvar": w.npy("vae/encode_logvar.npy", dist.logvar),
                   "sample_seed": 777, "sample": w.npy("vae/encode_sample_seed777.npy", smp),
                   "note": "image in [-1,1] (init.png/127.5-1 via /255*2-1); moments = quant_conv(encoder(x)); "
                           "logvar clamped to [-30,20]; std = exp(0.5*logvar). latent_dist.sample(generator) = "
                           "mean + std * randn_tensor(mean.shape, generator) (one draw of 1*4*16*16 from the "
                           "generator); pipelines then multiply by scaling_factor 0.13025."},
    }


def run_pipeline(pipe, w, name, call_kwargs, extra_inputs=()):
    """Run a pipeline twice (output_type latent, then pt) with a fresh
    generator each time, recording random draws, UNet calls, add_noise
    calls, VAE encodes and every step's latents."""
    results = {}
    seed = call_kwargs.pop("seed")
    for output_type in ("latent", "pt"):
        steps = []

        def cb(p, i, t, kw):
            steps.append({"i": i, "t": t, **{k: v.detach().clone() for k, v in kw.items()}})
            return {}

        gen = torch.Generator("cpu").manual_seed(seed)
        with record_randn() as draws, record_calls(pipe.unet, "forward") as unet_calls, \
                record_calls(pipe.scheduler, "add_noise") as noise_calls, \
                record_calls(pipe.vae, "encode") as enc_calls, torch.no_grad():
            out = pipe(**call_kwargs, generator=gen, output_type=output_type, callback_on_step_end=cb,
                       callback_on_step_end_tensor_inputs=["latents", *extra_inputs])
        results[output_type] = dict(out=out.images, steps=steps, draws=draws, unet=unet_calls,
                                    add_noise=noise_calls, encodes=enc_calls)
    a, b = results["latent"], results["pt"]
    assert len(a["steps"]) == len(b["steps"])
    for sa, sb in zip(a["steps"], b["steps"]):
        assert torch.equal(sa["latents"], sb["latents"]), "runs are not deterministic"
    assert torch.equal(a["out"], a["steps"][-1]["latents"])
    d = {"seed": seed}
    sch = pipe.scheduler
    d["scheduler"] = {"class": type(sch).__name__, "config": {k: v for k, v in sch.config.items()
                                                              if not k.startswith("_")}}
    d["timesteps_all"] = w.npy("%s/scheduler_timesteps.npy" % name, sch.timesteps.float())
    d["timesteps_all_list"] = [float(x) for x in sch.timesteps]
    if hasattr(sch, "sigmas"):
        d["sigmas"] = w.npy("%s/scheduler_sigmas.npy" % name, sch.sigmas.float())
        d["sigmas_list"] = [float(x) for x in sch.sigmas]
    d["init_noise_sigma"] = float(sch.init_noise_sigma)
    d["timesteps_run"] = [float(s["t"]) for s in a["steps"]]
    d["rng_calls"] = [{"by": c["by"], "shape": c["shape"]} for c in a["draws"]]
    d["rng_draws"] = [w.npy("%s/rng_%02d.npy" % (name, i), c["tensor"]) for i, c in enumerate(a["draws"])]
    d["unet_calls"] = len(a["unet"])
    uc = a["unet"][0]
    d["unet_encoder_hidden_states"] = w.npy("%s/unet_context.npy" % name, uc["kwargs"]["encoder_hidden_states"])
    d["unet_text_embeds"] = w.npy("%s/unet_text_embeds.npy" % name, uc["kwargs"]["added_cond_kwargs"]["text_embeds"])
    d["unet_time_ids"] = w.npy("%s/unet_time_ids.npy" % name, uc["kwargs"]["added_cond_kwargs"]["time_ids"])
    d["unet_in"], d["unet_out"], d["unet_t"] = [], [], []
    for i, c in enumerate(a["unet"]):
        d["unet_in"].append(w.npy("%s/unet_in_%03d.npy" % (name, i), c["args"][0]))
        d["unet_out"].append(w.npy("%s/unet_out_%03d.npy" % (name, i), c["out"][0]))
        d["unet_t"].append(float(c["args"][1]))
    d["latent_steps"] = [w.npy("%s/latent_step_%03d.npy" % (name, i), s["latents"]) for i, s in enumerate(a["steps"])]
    d["latent_final"] = w.npy("%s/latent_final.npy" % name, a["out"])
    d["image"] = w.npy("%s/image.npy" % name, b["out"])
    print("%-22s latent %s | image %s" % (name, stats(a["out"]), stats(b["out"])))
    return d, a


def case_txt2img(pipe, w):
    from diffusers import (DDIMScheduler, DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler,
                           EulerDiscreteScheduler, HeunDiscreteScheduler)
    base = dict(pipe.scheduler.config)
    samplers = [
        ("euler", EulerDiscreteScheduler, {}),
        ("euler_a", EulerAncestralDiscreteScheduler, {}),
        ("dpmpp_2m", DPMSolverMultistepScheduler, {}),
        ("dpmpp_2m_karras", DPMSolverMultistepScheduler, {"use_karras_sigmas": True}),
        ("dpmpp_2m_sde", DPMSolverMultistepScheduler, {"algorithm_type": "sde-dpmsolver++"}),
        ("ddim", DDIMScheduler, {}),
        ("heun", HeunDiscreteScheduler, {}),
    ]
    orig = pipe.scheduler
    runs = {}
    for name, cls, over in samplers:
        pipe.scheduler = cls.from_config(base, **over)
        kw = dict(prompt=PROMPT, negative_prompt=NEGATIVE, guidance_scale=GUIDANCE, num_inference_steps=STEPS,
                  height=128, width=128, seed=SEED)
        d, a = run_pipeline(pipe, w, "txt2img_" + name, kw)
        d["noise"] = d["rng_draws"][0]
        d.update(sampler=name, scheduler_overrides=over, prompt=PROMPT, negative_prompt=NEGATIVE,
                 guidance_scale=GUIDANCE, num_inference_steps=STEPS, height=128, width=128)
        runs[name] = d
    pipe.scheduler = EulerDiscreteScheduler.from_config(base)
    kw = dict(prompt=PROMPT, negative_prompt=NEGATIVE, guidance_scale=GUIDANCE, num_inference_steps=STEPS,
              height=128, width=192, seed=SEED + 1)
    d, _ = run_pipeline(pipe, w, "txt2img_euler_h128_w192", kw)
    d["noise"] = d["rng_draws"][0]
    d.update(sampler="euler", scheduler_overrides={}, prompt=PROMPT, negative_prompt=NEGATIVE,
             guidance_scale=GUIDANCE, num_inference_steps=STEPS, height=128, width=192,
             note="non-square: height 128, width 192 -> latent [1,4,16,24] (H=16, W=24), image [1,3,128,192]")
    runs["euler_h128_w192"] = d
    pipe.scheduler = orig
    return runs


def case_img2img(pipe, w, init_png):
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLImg2ImgPipeline
    from PIL import Image
    p2 = StableDiffusionXLImg2ImgPipeline(**pipe.components)
    p2.set_progress_bar_config(disable=True)
    p2.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)
    img = Image.open(init_png).convert("RGB")
    kw = dict(prompt=PROMPT, negative_prompt=NEGATIVE, image=img, strength=0.6, guidance_scale=GUIDANCE,
              num_inference_steps=STEPS, seed=SEED)
    d, a = run_pipeline(p2, w, "img2img_euler", kw)
    an = a["add_noise"][0]
    enc = a["encodes"][0]["out"].latent_dist
    d.update(strength=0.6, prompt=PROMPT, negative_prompt=NEGATIVE, guidance_scale=GUIDANCE,
             num_inference_steps=STEPS, init_image_png="ref/img2img/init.png", init_image="ref/img2img/init.npy",
             encode_mean=w.npy("img2img_euler/encode_mean.npy", enc.mean),
             encode_std=w.npy("img2img_euler/encode_std.npy", enc.std),
             init_latents=w.npy("img2img_euler/init_latents.npy", an["args"][0]),
             noise=w.npy("img2img_euler/noise.npy", an["args"][1]),
             add_noise_timestep=[float(x) for x in an["args"][2]],
             noised_latents=w.npy("img2img_euler/noised_latents.npy", an["out"]),
             start_step=len(d["timesteps_all_list"]) - len(d["timesteps_run"]),
             note=("init_latents = 0.13025 * (mean + std * rng_00) (latent_dist.sample draws first from the "
                   "generator); noise = rng_01 (second draw); noised = scheduler.add_noise(init_latents, noise, "
                   "timesteps_run[0]) = init + sigma*noise for Euler; then the loop runs timesteps_all[start_step:]. "
                   "init_noise_sigma is not applied in img2img. Euler draws rng_02.. in each step "
                   "(unused with s_churn 0)."))
    return d


def case_inpaint(pipe, w, init_png, mask_png):
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLInpaintPipeline
    from PIL import Image
    p3 = StableDiffusionXLInpaintPipeline(**pipe.components)
    p3.set_progress_bar_config(disable=True)
    img = Image.open(init_png).convert("RGB")
    mask = Image.open(mask_png).convert("L")
    runs = {}
    for strength in (1.0, 0.75):
        p3.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)
        name = "inpaint_euler_strength_%s" % str(strength).replace(".", "_")
        kw = dict(prompt=PROMPT, negative_prompt=NEGATIVE, image=img, mask_image=mask, strength=strength,
                  guidance_scale=GUIDANCE, num_inference_steps=STEPS, height=128, width=128, seed=SEED)
        d, a = run_pipeline(p3, w, name, kw, extra_inputs=("mask", "masked_image_latents"))
        s0 = a["steps"][0]
        d.update(strength=strength, prompt=PROMPT, negative_prompt=NEGATIVE, guidance_scale=GUIDANCE,
                 num_inference_steps=STEPS, init_image_png="ref/img2img/init.png",
                 mask_png="ref/inpaint/mask.png", mask_npy="ref/inpaint/mask.npy",
                 mask_latent=w.npy("%s/mask_latent.npy" % name, s0["mask"]),
                 masked_image_latents=w.npy("%s/masked_image_latents.npy" % name, s0["masked_image_latents"]),
                 start_step=len(d["timesteps_all_list"]) - len(d["timesteps_run"]))
        d["vae_encodes"] = []
        for i, e in enumerate(a["encodes"]):
            dist = e["out"].latent_dist
            d["vae_encodes"].append({"input": w.npy("%s/encode_%d_in.npy" % (name, i), e["args"][0]),
                                     "mean": w.npy("%s/encode_%d_mean.npy" % (name, i), dist.mean),
                                     "std": w.npy("%s/encode_%d_std.npy" % (name, i), dist.std)})
        d["add_noise_calls"] = []
        for i, c in enumerate(a["add_noise"]):
            d["add_noise_calls"].append({
                "original": w.npy("%s/add_noise_%d_original.npy" % (name, i), c["args"][0]),
                "noise": w.npy("%s/add_noise_%d_noise.npy" % (name, i), c["args"][1]),
                "timesteps": [float(x) for x in c["args"][2]],
                "out": w.npy("%s/add_noise_%d_out.npy" % (name, i), c["out"])})
        d["note"] = (
            "4-channel UNet. mask: mask_processor binarizes (>=0.5 -> 1 = repaint), then "
            "F.interpolate(size=(16,16)) nearest -> mask_latent (CFG-duplicated [2,1,16,16]). Generator order: "
            "encode(init image).latent_dist.sample (image_latents = 0.13025*that), noise, then "
            "encode(init*(mask<0.5)).latent_dist.sample for masked_image_latents (computed although a 4-channel "
            "UNet does not use it), then Euler's per-step draws. strength 1.0: latents = noise * "
            "init_noise_sigma; otherwise add_noise(image_latents, noise, timesteps_run[0]). After each step "
            "i < last: latents = (1-m)*add_noise(image_latents, noise, timesteps_run[i+1]) + m*latents; after "
            "the last step (1-m)*image_latents + m*latents. latent_steps are after that blend.")
        runs["strength_%s" % str(strength)] = d
    return runs


def pipeline_cases(args, tok_dirs):
    from PIL import Image
    w = Writer(args.out)
    for sub in os.listdir(w.ref_dir) if os.path.isdir(w.ref_dir) else []:
        if sub != "randn":
            p = os.path.join(w.ref_dir, sub)
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    pipe = load_pipeline(args, tok_dirs)
    cases = {}
    prompts, _ = case_prompts(pipe, w)
    cases["a_prompts"] = prompts
    cases["b_weighting"] = case_weighting(pipe, w)
    ld = lambda d: torch.from_numpy(np.load(os.path.join(args.out, d["file"])))
    conds = {"cond": ld(prompts["prompts"]["main"]["cond"]), "pooled": ld(prompts["prompts"]["main"]["pooled"]),
             "uncond": ld(prompts["negatives"]["text"]["uncond"]),
             "uncond_pooled": ld(prompts["negatives"]["text"]["uncond_pooled"])}
    split = tm.TINY_TEXT_ENCODER["hidden_size"]
    conds["cond_g"], conds["uncond_g"] = conds["cond"][..., split:], conds["uncond"][..., split:]
    cases["c_unet"] = case_unet(pipe, w, args, conds)

    init = make_init_image()
    os.makedirs(os.path.join(w.ref_dir, "img2img"), exist_ok=True)
    os.makedirs(os.path.join(w.ref_dir, "inpaint"), exist_ok=True)
    init_png = os.path.join(w.ref_dir, "img2img", "init.png")
    Image.fromarray(init).save(init_png, optimize=False, compress_level=9)
    w.npy("img2img/init.npy", torch.from_numpy(init).permute(2, 0, 1)[None].float() / 255.0)
    mask = make_mask()
    mask_png = os.path.join(w.ref_dir, "inpaint", "mask.png")
    Image.fromarray(mask).save(mask_png, optimize=False, compress_level=9)
    w.npy("inpaint/mask.npy", torch.from_numpy(mask)[None, None].float() / 255.0)
    sch = pipe.scheduler
    cases["scheduler_tables"] = {
        "betas": w.npy("scheduler/betas.npy", sch.betas), "alphas_cumprod": w.npy("scheduler/alphas_cumprod.npy",
                                                                                sch.alphas_cumprod),
        "note": "SDXL's training schedule as diffusers computes it: betas = linspace(0.00085**0.5, 0.012**0.5, "
                "1000, float32)**2, alphas_cumprod = cumprod(1 - betas) (float32); Euler-family sigmas = "
                "sqrt((1 - ac) / ac) interpolated at the timesteps (numpy float64, then float32)."}
    cases["d_vae"] = case_vae(pipe, w, init)
    cases["e_txt2img"] = case_txt2img(pipe, w)
    cases["f_img2img"] = case_img2img(pipe, w, init_png)
    cases["g_inpaint"] = case_inpaint(pipe, w, init_png, mask_png)
    doc = {
        "description": "Reference outputs of diffusers for tests/data/tiny-sdxl (see tests/reference/README.md).",
        "generated_with": {k: {"repo": v[0], "ref": v[1], "commit": v[2]} for k, v in refenv.PINNED.items()},
        "torch": torch.__version__,
        "conventions": {
            "arrays": "paths are relative to tests/data; float32 little-endian .npy (token ids int32)",
            "layout": "NCHW; latents [B,4,H/8,W/8]; images [B,3,H,W]",
            "images": "'image' = pipeline output with output_type='pt': (vae.decode(latent_final/0.13025)/2+0.5)"
                      ".clamp(0,1), before any quantization",
            "cfg": "UNet batch row 0 = uncond (negative), row 1 = cond; noise_pred = u + 5.0*(c-u)",
            "latent_steps": "latents after each scheduler.step (callback_on_step_end); Heun calls step twice per "
                            "step, so it has 2*steps-1 entries",
            "rng": "rng_calls lists every randn_tensor draw from the pipeline's torch.Generator('cpu') in order; "
                   "rng_NN.npy holds its values",
            "weights": "tiny-sdxl weights are fp16 values; all references are computed in float32 on them",
        },
        "prompt": PROMPT, "negative_prompt": NEGATIVE,
        "cases": cases,
    }
    write_json(os.path.join(w.ref_dir, "cases.json"), doc)
    print("cases.json written")
