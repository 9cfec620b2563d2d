#version 450
// sf_op_conv2d on CPU devices: implicit GEMM over NHWC, see gemm_cpu.glsl.
#define CONV
#include "gemm_cpu.glsl"
