#version 450
// sf_op_matmul and sf_op_matmul_geglu on CPU devices: see gemm_cpu.glsl.
#include "gemm_cpu.glsl"
