/* The seed's noise: PyTorch's CPU generator and torch.randn, bit for bit.
 *
 * A seed N gives the same float32 noise as
 *   torch.randn (shape, generator=torch.Generator ("cpu").manual_seed (N))
 * for a contiguous tensor on x86-64 (torch's AVX2 kernel; diffusers with a
 * CPU generator and ComfyUI draw their latents this way), so an image made
 * here can be made again there. Successive draws on one generator continue
 * the stream exactly as successive torch.randn calls on one generator do;
 * the samplers that add noise per step draw from the caller's generator in
 * diffusers' order (see sampler.h).
 *
 * The generator is a plain struct with no locking: one thread at a time. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct SfTorchGenerator SfTorchGenerator;

/* A generator in the state torch.Generator ("cpu").manual_seed (@seed)
 * leaves. Only the low 32 bits of @seed count, as in torch (the seed
 * 2^32 + 7 gives the stream of 7). Returns: (transfer full). */
SfTorchGenerator *sf_torch_generator_new (uint64_t seed);
void sf_torch_generator_free (SfTorchGenerator *generator);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfTorchGenerator, sf_torch_generator_free)

/* generator.manual_seed (@seed): restarts the stream and forgets the
 * cached normal value of the small-tensor path. */
void sf_torch_generator_manual_seed (SfTorchGenerator *generator, uint64_t seed);
/* The seed last set (all 64 bits, as generator.initial_seed () returns). */
uint64_t sf_torch_generator_initial_seed (const SfTorchGenerator *generator);

/* The next raw 32-bit output of the generator's mt19937. */
uint32_t sf_torch_generator_next_u32 (SfTorchGenerator *generator);

/* torch.randn of @count float32 elements (any shape with that many
 * elements, contiguous) into @out. With @count >= 16 it is the AVX2
 * kernel's float Box-Muller over blocks of 16 (a count that is not a
 * multiple of 16 draws 16 more uniforms and redoes the last 16 outputs);
 * with @count < 16 the per-element double-precision path, whose second
 * value is cached on the generator for the next such element. */
void sf_torch_randn (SfTorchGenerator *generator, float *out, size_t count);

G_END_DECLS
