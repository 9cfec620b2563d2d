#version 450
// sf_op_conv2d on GPUs: implicit GEMM over NHWC, see gemm_gpu.glsl.
#define CONV
#include "gemm_gpu.glsl"
