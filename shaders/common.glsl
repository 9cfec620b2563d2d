// Shared by the compute shaders: the group index for 1-D work spread over
// two dispatch dimensions (a dispatch may have at most 65535 groups in x).
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_shader_16bit_storage : require

uint sf_group_index ()
{
  return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
}
