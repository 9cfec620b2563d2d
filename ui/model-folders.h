/* Where SDXL checkpoints are looked for, and the .safetensors files found
 * there (GLib only; the generation panel shows the result).
 *
 * The folders, in order: A1111's models/Stable-diffusion and ComfyUI's
 * models/checkpoints under ~/stable-diffusion-webui, ~/ComfyUI and the
 * install roots in the settings a1111-root and comfyui-root; Sfumato's own
 * $XDG_DATA_HOME/sfumato/models; the settings' model-folders. When the
 * environment has SFUMATO_MODEL_DIRS (colon-separated), those folders are
 * searched instead of all of these (tests, portable setups). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  char *path;
  char *name;    /* the path under its folder, e.g. "sdxl/juggernaut.safetensors" */
} SfModelFile;

/* $XDG_DATA_HOME/sfumato/models. Returns: (transfer full). */
char *sf_model_folders_get_own (void);

/* @settings (nullable). Returns: (transfer full) (element-type utf8 path):
 * the folders searched, whether they exist or not, without repeats. */
GPtrArray *sf_model_folders_list (GSettings *settings);

/* The .safetensors files in @folders and their subfolders (a few levels
 * down), sorted by name, each file once. Returns: (transfer full)
 * (element-type SfModelFile). */
GPtrArray *sf_model_folders_scan (GPtrArray *folders);

G_END_DECLS
