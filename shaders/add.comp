#version 450
// out = a + b with b broadcast (sf_op_add); see broadcast.glsl.
#include "texel.glsl"
#define SF_COMBINE(x, y) ((x) + (y))
#include "broadcast.glsl"
