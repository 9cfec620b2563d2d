#version 450
// sf_op_matmul and sf_op_matmul_geglu on GPUs: see gemm_gpu.glsl.
#include "gemm_gpu.glsl"
