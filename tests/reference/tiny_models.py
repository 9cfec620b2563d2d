"""Configs, random initialisation and the two checkpoint layouts of the
tiny SDXL-architecture models, and the full-size SDXL configs used for the
key lists.  Models are built with diffusers/transformers classes; the
single-file names come from diffusers' scripts/convert_diffusers_to_original_sdxl.py
(imported from the checkout, not copied)."""

import importlib.util
import math
import os

import torch

# ---------------------------------------------------------------------------
# Full-size SDXL configs: the values of stabilityai/stable-diffusion-xl-base-1.0
# and -refiner-1.0 (unet/, vae/, text_encoder*/config.json and scheduler/),
# written out so nothing is fetched from the hub.

SDXL_BASE_UNET = dict(
    sample_size=128, in_channels=4, out_channels=4, center_input_sample=False,
    flip_sin_to_cos=True, freq_shift=0,
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    mid_block_type="UNetMidBlock2DCrossAttn",
    up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    only_cross_attention=False, block_out_channels=(320, 640, 1280), layers_per_block=2,
    downsample_padding=1, mid_block_scale_factor=1, act_fn="silu", norm_num_groups=32,
    norm_eps=1e-5, cross_attention_dim=2048, transformer_layers_per_block=(1, 2, 10),
    encoder_hid_dim=None, encoder_hid_dim_type=None, attention_head_dim=(5, 10, 20),
    num_attention_heads=None, dual_cross_attention=False, use_linear_projection=True,
    class_embed_type=None, addition_embed_type="text_time", addition_time_embed_dim=256,
    num_class_embeds=None, upcast_attention=None, resnet_time_scale_shift="default",
    resnet_skip_time_act=False, resnet_out_scale_factor=1.0, time_embedding_type="positional",
    time_embedding_dim=None, time_embedding_act_fn=None, timestep_post_act=None,
    time_cond_proj_dim=None, conv_in_kernel=3, conv_out_kernel=3,
    projection_class_embeddings_input_dim=2816, class_embeddings_concat=False,
    mid_block_only_cross_attention=None, cross_attention_norm=None,
    addition_embed_type_num_heads=64,
)

SDXL_REFINER_UNET = dict(
    SDXL_BASE_UNET,
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    block_out_channels=(384, 768, 1536, 1536), cross_attention_dim=1280,
    transformer_layers_per_block=4, attention_head_dim=(6, 12, 24, 24),
    projection_class_embeddings_input_dim=2560,
)

SDXL_VAE = dict(
    in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(128, 256, 512, 512),
    layers_per_block=2, act_fn="silu", latent_channels=4, norm_num_groups=32,
    sample_size=1024, scaling_factor=0.13025, force_upcast=True,
)

# CLIP ViT-L/14 text tower (encoder 1) and OpenCLIP ViT-bigG/14 (encoder 2),
# as SDXL's text_encoder/ and text_encoder_2/ config.json give them.
SDXL_TEXT_ENCODER = dict(
    vocab_size=49408, hidden_size=768, intermediate_size=3072, projection_dim=768,
    num_hidden_layers=12, num_attention_heads=12, max_position_embeddings=77,
    hidden_act="quick_gelu", layer_norm_eps=1e-5, attention_dropout=0.0, dropout=0.0,
    initializer_range=0.02, initializer_factor=1.0, bos_token_id=0, eos_token_id=2, pad_token_id=1,
)
SDXL_TEXT_ENCODER_2 = dict(
    SDXL_TEXT_ENCODER, hidden_size=1280, intermediate_size=5120, projection_dim=1280,
    num_hidden_layers=32, num_attention_heads=20, hidden_act="gelu",
)

SDXL_SCHEDULER = dict(
    num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
    trained_betas=None, prediction_type="epsilon", interpolation_type="linear",
    use_karras_sigmas=False, timestep_spacing="leading", steps_offset=1,
    # Keys of SDXL's scheduler_config.json that EulerDiscreteScheduler does not
    # take; diffusers keeps them in .config, so DDIMScheduler.from_config
    # gets clip_sample=False and set_alpha_to_one=False from them.
    clip_sample=False, sample_max_value=1.0, set_alpha_to_one=False, skip_prk_steps=True,
)

# ---------------------------------------------------------------------------
# Tiny configs: SDXL's structure, small widths.  head_dim is 16 everywhere
# (SDXL: 64); "attention_head_dim" is diffusers' (mis)name for the number
# of heads.  See README.md for why the UNet widths are (32, 64, 96).

TINY_UNET = dict(
    SDXL_BASE_UNET, sample_size=16, block_out_channels=(32, 64, 96),
    transformer_layers_per_block=(1, 1, 2), attention_head_dim=(2, 4, 6),
    cross_attention_dim=48, addition_time_embed_dim=32,
    projection_class_embeddings_input_dim=6 * 32 + 32,
)
# The inpainting and refiner UNets only need to exercise their own paths
# (9 input channels; four levels, bigG-only context, aesthetic score), so
# they are narrower still: the test data must stay small (it travels with
# every checkout).
TINY_INPAINT_UNET = dict(
    TINY_UNET, in_channels=9, block_out_channels=(32, 32, 64),
    transformer_layers_per_block=(1, 1, 1), attention_head_dim=(2, 2, 4),
)
TINY_REFINER_UNET = dict(
    SDXL_REFINER_UNET, sample_size=16, block_out_channels=(32, 32, 64, 64),
    transformer_layers_per_block=1, attention_head_dim=(2, 2, 4, 4),
    cross_attention_dim=32, addition_time_embed_dim=32,
    projection_class_embeddings_input_dim=5 * 32 + 32,
)
TINY_VAE = dict(SDXL_VAE, block_out_channels=(32, 32, 64, 64), sample_size=128)
TINY_TEXT_ENCODER = dict(
    SDXL_TEXT_ENCODER, hidden_size=16, intermediate_size=4 * 16, projection_dim=16,
    num_hidden_layers=3, num_attention_heads=2,
)
TINY_TEXT_ENCODER_2 = dict(
    SDXL_TEXT_ENCODER_2, hidden_size=32, intermediate_size=4 * 32, projection_dim=32,
    num_hidden_layers=3, num_attention_heads=2,
)

# Attention heads cannot be read from tensor shapes; real SDXL files use 64
# channels per head everywhere. Tiny single files say theirs in metadata,
# which Sfumato's loader reads.
TINY_METADATA = {
    "sfumato.unet.head_dim": "16",
    "sfumato.clip_l.head_dim": "8",
    "sfumato.clip_g.head_dim": "16",
}

SEEDS = dict(text_encoder=1001, text_encoder_2=1002, unet=1003, vae=1004,
             inpaint_unet=1005, refiner_unet=1006)


def make_unet(cfg):
    from diffusers import UNet2DConditionModel
    return UNet2DConditionModel(**cfg)


def make_vae(cfg):
    from diffusers import AutoencoderKL
    return AutoencoderKL(**cfg)


def make_text_encoder(cfg, with_projection):
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection
    config = CLIPTextConfig(**cfg)
    return (CLIPTextModelWithProjection if with_projection else CLIPTextModel)(config)


# ---------------------------------------------------------------------------
# Random initialisation


def _is_norm_param(module_by_name, name):
    owner = module_by_name[name.rsplit(".", 1)[0]]
    return isinstance(owner, (torch.nn.GroupNorm, torch.nn.LayerNorm))


@torch.no_grad()
def randomize(model, seed, storage_dtype=torch.float16):
    """Re-draw every parameter from one seeded generator (in named_parameters
    order) and round it to the storage dtype, keeping the fp32 model:
      weights of linear/conv layers  N(0, 1/fan_in)  (activations keep their scale)
      embeddings                     N(0, 0.5^2)
      norm scales                    1 + N(0, 0.1^2), norm shifts N(0, 0.05^2)
      other biases                   N(0, 0.05^2)
    so the fp32 reference computes exactly on the stored values."""
    g = torch.Generator().manual_seed(seed)
    modules = dict(model.named_modules())
    for name, p in model.named_parameters():
        leaf = name.rsplit(".", 1)[-1]
        if _is_norm_param(modules, name):
            v = torch.randn(p.shape, generator=g) * (0.1 if leaf == "weight" else 0.05)
            if leaf == "weight":
                v += 1.0
        elif "embedding" in name and isinstance(modules[name.rsplit(".", 1)[0]], torch.nn.Embedding):
            v = torch.randn(p.shape, generator=g) * 0.5
        elif p.dim() >= 2:
            fan_in = p[0].numel()
            v = torch.randn(p.shape, generator=g) / math.sqrt(fan_in)
        else:
            v = torch.randn(p.shape, generator=g) * 0.05
        p.copy_(v.to(storage_dtype).to(torch.float32))
    model.eval()
    return model


def count_params(model):
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------
# Single-file layout (sd_xl_base_1.0.safetensors / sd_xl_refiner_1.0.safetensors)


def load_conversion_script(diffusers_checkout):
    path = os.path.join(diffusers_checkout, "scripts", "convert_diffusers_to_original_sdxl.py")
    spec = importlib.util.spec_from_file_location("convert_diffusers_to_original_sdxl", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def unet_original_names(cfg):
    """diffusers UNet parameter prefix -> original (SGM openaimodel) prefix,
    for any number of levels.  The conversion script hard-codes SDXL base's
    three levels; the refiner has four, so this general form is used there
    and checked against the script on the base (see check_unet_mapping)."""
    lpb = cfg["layers_per_block"]
    down, up = cfg["down_block_types"], cfg["up_block_types"]
    levels = len(down)
    pairs = []  # (diffusers prefix, original prefix)
    for i in range(levels):
        for j in range(lpb):
            idx = 1 + i * (lpb + 1) + j
            pairs.append(("down_blocks.%d.resnets.%d." % (i, j), "input_blocks.%d.0." % idx))
            if "CrossAttn" in down[i]:
                pairs.append(("down_blocks.%d.attentions.%d." % (i, j), "input_blocks.%d.1." % idx))
        if i < levels - 1:
            pairs.append(("down_blocks.%d.downsamplers.0.conv." % i,
                          "input_blocks.%d.0.op." % ((i + 1) * (lpb + 1))))
    for i in range(levels):
        for j in range(lpb + 1):
            idx = i * (lpb + 1) + j
            pairs.append(("up_blocks.%d.resnets.%d." % (i, j), "output_blocks.%d.0." % idx))
            if "CrossAttn" in up[i]:
                pairs.append(("up_blocks.%d.attentions.%d." % (i, j), "output_blocks.%d.1." % idx))
        if i < levels - 1:
            slot = 2 if "CrossAttn" in up[i] else 1
            pairs.append(("up_blocks.%d.upsamplers.0." % i,
                          "output_blocks.%d.%d." % (i * (lpb + 1) + lpb, slot)))
    pairs += [("mid_block.resnets.0.", "middle_block.0."), ("mid_block.attentions.0.", "middle_block.1."),
              ("mid_block.resnets.1.", "middle_block.2.")]
    return pairs


def convert_unet_general(state_dict, cfg, script):
    """diffusers UNet state dict -> original names, using the script's
    resnet and top-level tables and unet_original_names for block prefixes."""
    top = {hf: sd for sd, hf in script.unet_conversion_map}
    pairs = unet_original_names(cfg)
    out = {}
    for name, t in state_dict.items():
        if name in top:
            out[top[name]] = t
            continue
        for hf_prefix, sd_prefix in pairs:
            if name.startswith(hf_prefix):
                rest = name[len(hf_prefix):]
                if ".resnets." in hf_prefix:
                    for sd_part, hf_part in script.unet_conversion_map_resnet:
                        rest = rest.replace(hf_part, sd_part)
                out[sd_prefix + rest] = t
                break
        else:
            raise KeyError("no original name for UNet tensor " + name)
    return out


def openclip_fixups(converted, hf_state_dict):
    """The v0.25 script leaves bigG's projection as text_projection.weight
    ([proj, hidden], a Linear weight) and drops logit_scale; SDXL's files hold
    text_projection as [hidden, proj] (OpenCLIP multiplies x @ P) and a
    logit_scale scalar.  Later diffusers versions of the script transpose it
    the same way; diffusers' loader (convert_open_clip_checkpoint) reads it so."""
    out = dict(converted)
    w = out.pop("text_projection.weight")
    out["text_projection"] = w.t().contiguous()
    out["logit_scale"] = torch.tensor(math.log(100.0), dtype=w.dtype)  # CLIP's trained value, ~4.6055 in fp16
    return out


def single_file_state_dict(unet, vae, te1, te2, script, unet_cfg, refiner=False, dtype=torch.float16):
    """Tensors in the layout of sd_xl_base_1.0 / sd_xl_refiner_1.0."""
    sd = {}
    u = {k: v for k, v in unet.state_dict().items()}
    ref = script.convert_unet_state_dict(dict(u)) if not refiner else None
    conv = convert_unet_general(u, unet_cfg, script)
    if ref is not None:
        assert set(ref) == set(conv), "general UNet mapping disagrees with the script"
        for k in ref:
            assert ref[k] is conv[k], "general UNet mapping disagrees with the script at " + k
    sd.update({"model.diffusion_model." + k: v for k, v in conv.items()})
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):  # the script prints each reshape
        v = script.convert_vae_state_dict(dict(vae.state_dict()))
    sd.update({"first_stage_model." + k: t for k, t in v.items()})
    if te1 is not None:
        t1 = script.convert_openai_text_enc_state_dict(dict(te1.state_dict()))
        t1 = dict(t1)
        # SDXL base 1.0 stores CLIP-L's position_ids buffer (I64 [1,77]);
        # transformers >= 4.31 no longer saves it, so it is added here.
        t1["text_model.embeddings.position_ids"] = torch.arange(
            te1.config.max_position_embeddings, dtype=torch.int64).unsqueeze(0)
        sd.update({"conditioner.embedders.0.transformer." + k: t for k, t in t1.items()})
    t2 = openclip_fixups(script.convert_openclip_text_enc_state_dict(dict(te2.state_dict())), te2.state_dict())
    prefix = "conditioner.embedders.0.model." if refiner else "conditioner.embedders.1.model."
    sd.update({prefix + k: t for k, t in t2.items()})
    out = {}
    for k, t in sd.items():
        out[k] = t if t.dtype == torch.int64 else t.detach().to(dtype).contiguous()
    return out
