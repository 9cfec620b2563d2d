#include "sdxl_arch.h"

#include <stdarg.h>
#include <string.h>

/* sgm's configs for SDXL 1.0 (sd_xl_base.yaml, sd_xl_refiner.yaml). */
const SfSdxlArch sf_sdxl_arch_base = {
  .name = "sdxl-base",
  .in_channels = 4, .out_channels = 4, .model_channels = 320, .levels = 3,
  .channel_mult = { 1, 2, 4 }, .res_blocks = 2, .transformer_depth = { 0, 2, 10 },
  .transformer_depth_middle = 10, .context_dim = 2048, .adm_channels = 2816,
  .clip_l_layers = 12, .clip_l_hidden = 768, .clip_l_intermediate = 3072,
  .clip_g_layers = 32, .clip_g_hidden = 1280, .clip_g_intermediate = 5120,
  .clip_g_projection = 1280, .clip_g_prefix = "conditioner.embedders.1.model.",
  .vocab = 49408, .tokens = 77,
  .vae_channels = 128, .vae_levels = 4, .vae_mult = { 1, 2, 4, 4 }, .vae_res_blocks = 2,
  .z_channels = 4,
};

const SfSdxlArch sf_sdxl_arch_refiner = {
  .name = "sdxl-refiner",
  .in_channels = 4, .out_channels = 4, .model_channels = 384, .levels = 4,
  .channel_mult = { 1, 2, 4, 4 }, .res_blocks = 2, .transformer_depth = { 0, 4, 4, 0 },
  .transformer_depth_middle = 4, .context_dim = 1280, .adm_channels = 2560,
  .clip_l_layers = 0,
  .clip_g_layers = 32, .clip_g_hidden = 1280, .clip_g_intermediate = 5120,
  .clip_g_projection = 1280, .clip_g_prefix = "conditioner.embedders.0.model.",
  .vocab = 49408, .tokens = 77,
  .vae_channels = 128, .vae_levels = 4, .vae_mult = { 1, 2, 4, 4 }, .vae_res_blocks = 2,
  .z_channels = 4,
};

const SfSdxlArch *
sf_sdxl_arch_lookup (const char *name)
{
  if (g_strcmp0 (name, sf_sdxl_arch_base.name) == 0)
    return &sf_sdxl_arch_base;
  if (g_strcmp0 (name, sf_sdxl_arch_refiner.name) == 0)
    return &sf_sdxl_arch_refiner;
  return NULL;
}

typedef struct {
  void (*visit) (const SfArchTensor *tensor, gpointer data);
  gpointer data;
} Walker;

static void
emit (Walker *walker, SfInitKind init, int64_t fan_in, int ndim, const int64_t *shape,
      const char *format, ...) G_GNUC_PRINTF (6, 7);

static void
emit (Walker *walker, SfInitKind init, int64_t fan_in, int ndim, const int64_t *shape,
      const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *name = g_strdup_vprintf (format, args);
  va_end (args);
  SfArchTensor tensor = { .name = name, .ndim = ndim, .init = init, .fan_in = fan_in,
                          .int64 = init == SF_INIT_POSITION_IDS };
  for (int i = 0; i < 4; i++)
    tensor.shape[i] = i < ndim ? shape[i] : 1;
  walker->visit (&tensor, walker->data);
}

#define SHAPE(...) (sizeof ((int64_t[]) { __VA_ARGS__ }) / sizeof (int64_t)), (int64_t[]) { __VA_ARGS__ }

/* prefix.weight [out, in] and prefix.bias [out]. */
static void
linear (Walker *w, int64_t out, int64_t in, gboolean bias, const char *prefix)
{
  emit (w, SF_INIT_WEIGHT, in, SHAPE (out, in), "%s.weight", prefix);
  if (bias)
    emit (w, SF_INIT_BIAS, 0, SHAPE (out), "%s.bias", prefix);
}

static void
conv (Walker *w, int64_t out, int64_t in, int64_t k, const char *prefix)
{
  emit (w, SF_INIT_WEIGHT, in * k * k, SHAPE (out, in, k, k), "%s.weight", prefix);
  emit (w, SF_INIT_BIAS, 0, SHAPE (out), "%s.bias", prefix);
}

static void
norm (Walker *w, int64_t channels, const char *prefix)
{
  emit (w, SF_INIT_NORM_SCALE, 0, SHAPE (channels), "%s.weight", prefix);
  emit (w, SF_INIT_BIAS, 0, SHAPE (channels), "%s.bias", prefix);
}

static void
unet_resblock (Walker *w, const SfSdxlArch *a, int64_t in, int64_t out, const char *p)
{
  g_autofree char *n0 = g_strdup_printf ("%s.in_layers.0", p);
  g_autofree char *c0 = g_strdup_printf ("%s.in_layers.2", p);
  g_autofree char *e = g_strdup_printf ("%s.emb_layers.1", p);
  g_autofree char *n1 = g_strdup_printf ("%s.out_layers.0", p);
  g_autofree char *c1 = g_strdup_printf ("%s.out_layers.3", p);
  g_autofree char *s = g_strdup_printf ("%s.skip_connection", p);
  norm (w, in, n0);
  conv (w, out, in, 3, c0);
  linear (w, out, 4 * a->model_channels, TRUE, e);
  norm (w, out, n1);
  conv (w, out, out, 3, c1);
  if (in != out)
    conv (w, out, in, 1, s);
}

static void
unet_transformer (Walker *w, const SfSdxlArch *a, int64_t c, int depth, const char *p)
{
  g_autofree char *n = g_strdup_printf ("%s.norm", p);
  g_autofree char *pi = g_strdup_printf ("%s.proj_in", p);
  g_autofree char *po = g_strdup_printf ("%s.proj_out", p);
  norm (w, c, n);
  linear (w, c, c, TRUE, pi);
  for (int d = 0; d < depth; d++)
    {
      g_autofree char *b = g_strdup_printf ("%s.transformer_blocks.%d", p, d);
      const char *parts[] = { "attn1.to_q", "attn1.to_k", "attn1.to_v" };
      for (int i = 0; i < 3; i++)
        {
          g_autofree char *name = g_strdup_printf ("%s.%s", b, parts[i]);
          linear (w, c, c, FALSE, name);
        }
      g_autofree char *o1 = g_strdup_printf ("%s.attn1.to_out.0", b);
      g_autofree char *q2 = g_strdup_printf ("%s.attn2.to_q", b);
      g_autofree char *k2 = g_strdup_printf ("%s.attn2.to_k", b);
      g_autofree char *v2 = g_strdup_printf ("%s.attn2.to_v", b);
      g_autofree char *o2 = g_strdup_printf ("%s.attn2.to_out.0", b);
      g_autofree char *f0 = g_strdup_printf ("%s.ff.net.0.proj", b);
      g_autofree char *f2 = g_strdup_printf ("%s.ff.net.2", b);
      g_autofree char *n1 = g_strdup_printf ("%s.norm1", b);
      g_autofree char *n2 = g_strdup_printf ("%s.norm2", b);
      g_autofree char *n3 = g_strdup_printf ("%s.norm3", b);
      linear (w, c, c, TRUE, o1);
      linear (w, c, c, FALSE, q2);
      linear (w, c, a->context_dim, FALSE, k2);
      linear (w, c, a->context_dim, FALSE, v2);
      linear (w, c, c, TRUE, o2);
      linear (w, 8 * c, c, TRUE, f0);
      linear (w, c, 4 * c, TRUE, f2);
      norm (w, c, n1);
      norm (w, c, n2);
      norm (w, c, n3);
    }
  linear (w, c, c, TRUE, po);
}

static void
unet (Walker *w, const SfSdxlArch *a)
{
  const char *P = "model.diffusion_model.";
  int64_t c0 = a->model_channels, te = 4 * c0;
  g_autofree char *t0 = g_strdup_printf ("%stime_embed.0", P);
  g_autofree char *t2 = g_strdup_printf ("%stime_embed.2", P);
  g_autofree char *l0 = g_strdup_printf ("%slabel_emb.0.0", P);
  g_autofree char *l2 = g_strdup_printf ("%slabel_emb.0.2", P);
  linear (w, te, c0, TRUE, t0);
  linear (w, te, te, TRUE, t2);
  linear (w, te, a->adm_channels, TRUE, l0);
  linear (w, te, te, TRUE, l2);
  g_autofree char *in0 = g_strdup_printf ("%sinput_blocks.0.0", P);
  conv (w, c0, a->in_channels, 3, in0);

  int64_t skips[32];
  int nskips = 0;
  skips[nskips++] = c0;
  int64_t ch = c0;
  int index = 1;
  for (int l = 0; l < a->levels; l++)
    {
      for (int r = 0; r < a->res_blocks; r++, index++)
        {
          int64_t out = a->channel_mult[l] * c0;
          g_autofree char *rp = g_strdup_printf ("%sinput_blocks.%d.0", P, index);
          unet_resblock (w, a, ch, out, rp);
          if (a->transformer_depth[l] > 0)
            {
              g_autofree char *tp = g_strdup_printf ("%sinput_blocks.%d.1", P, index);
              unet_transformer (w, a, out, a->transformer_depth[l], tp);
            }
          ch = out;
          skips[nskips++] = ch;
        }
      if (l != a->levels - 1)
        {
          g_autofree char *dp = g_strdup_printf ("%sinput_blocks.%d.0.op", P, index++);
          conv (w, ch, ch, 3, dp);
          skips[nskips++] = ch;
        }
    }
  g_autofree char *m0 = g_strdup_printf ("%smiddle_block.0", P);
  g_autofree char *m1 = g_strdup_printf ("%smiddle_block.1", P);
  g_autofree char *m2 = g_strdup_printf ("%smiddle_block.2", P);
  unet_resblock (w, a, ch, ch, m0);
  unet_transformer (w, a, ch, a->transformer_depth_middle, m1);
  unet_resblock (w, a, ch, ch, m2);

  index = 0;
  for (int l = a->levels - 1; l >= 0; l--)
    for (int r = 0; r <= a->res_blocks; r++, index++)
      {
        int64_t out = a->channel_mult[l] * c0;
        int64_t in = ch + skips[--nskips];
        g_autofree char *rp = g_strdup_printf ("%soutput_blocks.%d.0", P, index);
        unet_resblock (w, a, in, out, rp);
        int next = 1;
        if (a->transformer_depth[l] > 0)
          {
            g_autofree char *tp = g_strdup_printf ("%soutput_blocks.%d.1", P, index);
            unet_transformer (w, a, out, a->transformer_depth[l], tp);
            next = 2;
          }
        if (l > 0 && r == a->res_blocks)
          {
            g_autofree char *up = g_strdup_printf ("%soutput_blocks.%d.%d.conv", P, index, next);
            conv (w, out, out, 3, up);
          }
        ch = out;
      }
  g_autofree char *o0 = g_strdup_printf ("%sout.0", P);
  g_autofree char *o2 = g_strdup_printf ("%sout.2", P);
  norm (w, c0, o0);
  conv (w, a->out_channels, c0, 3, o2);
}

static void
vae_resblock (Walker *w, int64_t in, int64_t out, const char *p)
{
  g_autofree char *n1 = g_strdup_printf ("%s.norm1", p);
  g_autofree char *c1 = g_strdup_printf ("%s.conv1", p);
  g_autofree char *n2 = g_strdup_printf ("%s.norm2", p);
  g_autofree char *c2 = g_strdup_printf ("%s.conv2", p);
  g_autofree char *s = g_strdup_printf ("%s.nin_shortcut", p);
  norm (w, in, n1);
  conv (w, out, in, 3, c1);
  norm (w, out, n2);
  conv (w, out, out, 3, c2);
  if (in != out)
    conv (w, out, in, 1, s);
}

static void
vae_mid (Walker *w, int64_t c, const char *p)
{
  g_autofree char *b1 = g_strdup_printf ("%s.mid.block_1", p);
  g_autofree char *b2 = g_strdup_printf ("%s.mid.block_2", p);
  vae_resblock (w, c, c, b1);
  const char *parts[] = { "norm", "q", "k", "v", "proj_out" };
  for (int i = 0; i < 5; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s.mid.attn_1.%s", p, parts[i]);
      if (i == 0)
        norm (w, c, name);
      else
        conv (w, c, c, 1, name);
    }
  vae_resblock (w, c, c, b2);
}

static void
vae (Walker *w, const SfSdxlArch *a)
{
  const char *enc = "first_stage_model.encoder", *dec = "first_stage_model.decoder";
  int64_t ch = a->vae_channels, z = a->z_channels;
  g_autofree char *ein = g_strdup_printf ("%s.conv_in", enc);
  conv (w, ch, 3, 3, ein);
  int64_t in = ch;
  for (int i = 0; i < a->vae_levels; i++)
    {
      int64_t out = ch * a->vae_mult[i];
      for (int j = 0; j < a->vae_res_blocks; j++)
        {
          g_autofree char *p = g_strdup_printf ("%s.down.%d.block.%d", enc, i, j);
          vae_resblock (w, in, out, p);
          in = out;
        }
      if (i != a->vae_levels - 1)
        {
          g_autofree char *p = g_strdup_printf ("%s.down.%d.downsample.conv", enc, i);
          conv (w, in, in, 3, p);
        }
    }
  vae_mid (w, in, enc);
  g_autofree char *eno = g_strdup_printf ("%s.norm_out", enc);
  g_autofree char *eco = g_strdup_printf ("%s.conv_out", enc);
  norm (w, in, eno);
  conv (w, 2 * z, in, 3, eco);

  int64_t top = ch * a->vae_mult[a->vae_levels - 1];
  g_autofree char *din = g_strdup_printf ("%s.conv_in", dec);
  conv (w, top, z, 3, din);
  vae_mid (w, top, dec);
  in = top;
  for (int i = a->vae_levels - 1; i >= 0; i--)
    {
      int64_t out = ch * a->vae_mult[i];
      for (int j = 0; j <= a->vae_res_blocks; j++)
        {
          g_autofree char *p = g_strdup_printf ("%s.up.%d.block.%d", dec, i, j);
          vae_resblock (w, in, out, p);
          in = out;
        }
      if (i != 0)
        {
          g_autofree char *p = g_strdup_printf ("%s.up.%d.upsample.conv", dec, i);
          conv (w, in, in, 3, p);
        }
    }
  g_autofree char *dno = g_strdup_printf ("%s.norm_out", dec);
  g_autofree char *dco = g_strdup_printf ("%s.conv_out", dec);
  norm (w, in, dno);
  conv (w, 3, in, 3, dco);
  conv (w, 2 * z, 2 * z, 1, "first_stage_model.quant_conv");
  conv (w, z, z, 1, "first_stage_model.post_quant_conv");
}

static void
clip_l (Walker *w, const SfSdxlArch *a)
{
  const char *p = "conditioner.embedders.0.transformer.text_model.";
  int64_t d = a->clip_l_hidden;
  emit (w, SF_INIT_EMBEDDING, 0, SHAPE (a->vocab, d), "%sembeddings.token_embedding.weight", p);
  emit (w, SF_INIT_EMBEDDING, 0, SHAPE (a->tokens, d), "%sembeddings.position_embedding.weight", p);
  emit (w, SF_INIT_POSITION_IDS, 0, SHAPE (1, a->tokens), "%sembeddings.position_ids", p);
  for (int i = 0; i < a->clip_l_layers; i++)
    {
      g_autofree char *b = g_strdup_printf ("%sencoder.layers.%d", p, i);
      const char *proj[] = { "q_proj", "k_proj", "v_proj", "out_proj" };
      for (int j = 0; j < 4; j++)
        {
          g_autofree char *name = g_strdup_printf ("%s.self_attn.%s", b, proj[j]);
          linear (w, d, d, TRUE, name);
        }
      g_autofree char *n1 = g_strdup_printf ("%s.layer_norm1", b);
      g_autofree char *n2 = g_strdup_printf ("%s.layer_norm2", b);
      g_autofree char *f1 = g_strdup_printf ("%s.mlp.fc1", b);
      g_autofree char *f2 = g_strdup_printf ("%s.mlp.fc2", b);
      norm (w, d, n1);
      norm (w, d, n2);
      linear (w, a->clip_l_intermediate, d, TRUE, f1);
      linear (w, d, a->clip_l_intermediate, TRUE, f2);
    }
  g_autofree char *fn = g_strdup_printf ("%sfinal_layer_norm", p);
  norm (w, d, fn);
}

static void
clip_g (Walker *w, const SfSdxlArch *a)
{
  const char *p = a->clip_g_prefix;
  int64_t d = a->clip_g_hidden;
  emit (w, SF_INIT_EMBEDDING, 0, SHAPE (a->vocab, d), "%stoken_embedding.weight", p);
  emit (w, SF_INIT_EMBEDDING, 0, SHAPE (a->tokens, d), "%spositional_embedding", p);
  for (int i = 0; i < a->clip_g_layers; i++)
    {
      g_autofree char *b = g_strdup_printf ("%stransformer.resblocks.%d", p, i);
      emit (w, SF_INIT_WEIGHT, d, SHAPE (3 * d, d), "%s.attn.in_proj_weight", b);
      emit (w, SF_INIT_BIAS, 0, SHAPE (3 * d), "%s.attn.in_proj_bias", b);
      g_autofree char *o = g_strdup_printf ("%s.attn.out_proj", b);
      g_autofree char *n1 = g_strdup_printf ("%s.ln_1", b);
      g_autofree char *n2 = g_strdup_printf ("%s.ln_2", b);
      g_autofree char *f1 = g_strdup_printf ("%s.mlp.c_fc", b);
      g_autofree char *f2 = g_strdup_printf ("%s.mlp.c_proj", b);
      linear (w, d, d, TRUE, o);
      norm (w, d, n1);
      norm (w, d, n2);
      linear (w, a->clip_g_intermediate, d, TRUE, f1);
      linear (w, d, a->clip_g_intermediate, TRUE, f2);
    }
  g_autofree char *fn = g_strdup_printf ("%sln_final", p);
  norm (w, d, fn);
  /* [hidden, projection], used as x @ text_projection. */
  emit (w, SF_INIT_WEIGHT, d, SHAPE (d, a->clip_g_projection), "%stext_projection", p);
  emit (w, SF_INIT_LOGIT_SCALE, 0, 0, NULL, "%slogit_scale", p);
}

char *
sf_arch_tensor_describe (const SfArchTensor *t)
{
  GString *line = g_string_new (NULL);
  g_string_append_printf (line, "%s\t%s\t[", t->name, t->int64 ? "I64" : "F16");
  for (int i = 0; i < t->ndim; i++)
    g_string_append_printf (line, "%s%" G_GINT64_FORMAT, i ? "," : "", t->shape[i]);
  g_string_append_c (line, ']');
  return g_string_free (line, FALSE);
}

void
sf_sdxl_arch_enumerate (const SfSdxlArch *arch,
                        void (*visit) (const SfArchTensor *tensor, gpointer data), gpointer data)
{
  Walker walker = { visit, data };
  if (arch->clip_l_layers > 0)
    clip_l (&walker, arch);
  if (arch->clip_g_layers > 0)
    clip_g (&walker, arch);
  unet (&walker, arch);
  vae (&walker, arch);
}
