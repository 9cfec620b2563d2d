#version 450
// out = a * b with b broadcast (sf_op_mul); see broadcast.glsl.
#include "texel.glsl"
#define SF_COMBINE(x, y) ((x) * (y))
#include "broadcast.glsl"
