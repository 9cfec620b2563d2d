/* ComfyUI's PNG text: the `prompt` chunk (the API graph it ran) and the
 * `workflow` chunk (the editor's graph, for images saved without the
 * other). */
#include <json-glib/json-glib.h>
#include <string.h>

#include "infotext.h"

/* ---- ComfyUI: the API graph --------------------------------------- */

#define MAX_LINK_DEPTH 32

static JsonObject *
node_inputs (JsonObject *graph, const char *id)
{
  JsonNode *node = json_object_get_member (graph, id);
  if (!node || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  JsonObject *object = json_node_get_object (node);
  JsonNode *inputs = json_object_get_member (object, "inputs");
  return inputs && JSON_NODE_HOLDS_OBJECT (inputs) ? json_node_get_object (inputs) : NULL;
}

static const char *
node_class (JsonObject *graph, const char *id)
{
  JsonNode *node = json_object_get_member (graph, id);
  if (!node || !JSON_NODE_HOLDS_OBJECT (node))
    return "";
  JsonNode *type = json_object_get_member (json_node_get_object (node), "class_type");
  return type && JSON_NODE_HOLDS_VALUE (type) && json_node_get_value_type (type) == G_TYPE_STRING
             ? json_node_get_string (type)
             : "";
}

/* A link is ["node id", output index]; returns the node id, or NULL. */
static char *
link_target (JsonNode *input)
{
  if (!input || !JSON_NODE_HOLDS_ARRAY (input))
    return NULL;
  JsonArray *array = json_node_get_array (input);
  if (json_array_get_length (array) < 1)
    return NULL;
  JsonNode *id = json_array_get_element (array, 0);
  if (!JSON_NODE_HOLDS_VALUE (id))
    return NULL;
  if (json_node_get_value_type (id) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (id));
  if (json_node_get_value_type (id) == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (id));
  return NULL;
}

static const char *const VALUE_INPUTS[] = { "value", "seed", "noise_seed", "int", "float",
                                            "text", "string", NULL };

/* An input's literal value, following links to primitive nodes. */
static JsonNode *
resolve_input (JsonObject *graph, JsonObject *inputs, const char *name, int depth)
{
  JsonNode *input = json_object_get_member (inputs, name);
  if (!input || depth > MAX_LINK_DEPTH)
    return NULL;
  if (JSON_NODE_HOLDS_VALUE (input))
    return input;
  g_autofree char *target = link_target (input);
  JsonObject *next = target ? node_inputs (graph, target) : NULL;
  if (!next)
    return NULL;
  for (int i = 0; VALUE_INPUTS[i]; i++)
    if (json_object_has_member (next, VALUE_INPUTS[i]))
      {
        JsonNode *found = resolve_input (graph, next, VALUE_INPUTS[i], depth + 1);
        if (found)
          return found;
      }
  return NULL;
}

static gboolean
input_number (JsonObject *graph, JsonObject *inputs, const char *name, double *out)
{
  JsonNode *node = resolve_input (graph, inputs, name, 0);
  if (!node)
    return FALSE;
  GType type = json_node_get_value_type (node);
  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    return FALSE;
  *out = json_node_get_double (node);
  return TRUE;
}

static char *
input_string (JsonObject *graph, JsonObject *inputs, const char *name)
{
  JsonNode *node = resolve_input (graph, inputs, name, 0);
  return node && json_node_get_value_type (node) == G_TYPE_STRING
             ? g_strdup (json_node_get_string (node))
             : NULL;
}

/* The prompt text reached by following a conditioning link. */
static char *
find_text (JsonObject *graph, JsonNode *link, int depth)
{
  g_autofree char *id = link_target (link);
  JsonObject *inputs = id ? node_inputs (graph, id) : NULL;
  if (!inputs || depth > MAX_LINK_DEPTH)
    return NULL;
  char *text = input_string (graph, inputs, "text");
  if (!text)
    text = input_string (graph, inputs, "text_g"); /* CLIPTextEncodeSDXL */
  if (text)
    return text;
  static const char *const through[] = { "conditioning", "conditioning_1", "conditioning_to",
                                         "positive", NULL };
  for (int i = 0; through[i]; i++)
    if ((text = find_text (graph, json_object_get_member (inputs, through[i]), depth + 1)))
      return text;
  return NULL;
}

static void
find_size (JsonObject *graph, JsonNode *link, SfInfotext *infotext, int depth)
{
  g_autofree char *id = link_target (link);
  JsonObject *inputs = id ? node_inputs (graph, id) : NULL;
  if (!inputs || depth > MAX_LINK_DEPTH)
    return;
  double width, height;
  if (input_number (graph, inputs, "width", &width) && input_number (graph, inputs, "height", &height)
      && width > 0 && height > 0 && width < G_MAXINT && height < G_MAXINT)
    {
      infotext->width_px = (int) width;
      infotext->height_px = (int) height;
      return;
    }
  find_size (graph, json_object_get_member (inputs, "samples"), infotext, depth + 1);
}

static char *
find_model (JsonObject *graph, JsonNode *link, int depth)
{
  g_autofree char *id = link_target (link);
  JsonObject *inputs = id ? node_inputs (graph, id) : NULL;
  if (!inputs || depth > MAX_LINK_DEPTH)
    return NULL;
  char *name = input_string (graph, inputs, "ckpt_name");
  if (!name)
    name = input_string (graph, inputs, "unet_name");
  return name ? name : find_model (graph, json_object_get_member (inputs, "model"), depth + 1);
}

static gint
compare_node_ids (gconstpointer a, gconstpointer b)
{
  const char *x = *(const char *const *) a, *y = *(const char *const *) b;
  gint64 nx = g_ascii_strtoll (x, NULL, 10), ny = g_ascii_strtoll (y, NULL, 10);
  return nx != ny ? (nx < ny ? -1 : 1) : strcmp (x, y);
}

SfInfotext *
sf_infotext_parse_comfyui (const char *prompt_json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, prompt_json, -1, error))
    return NULL;
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                   "ComfyUI prompt is not a JSON object of nodes");
      return NULL;
    }
  JsonObject *graph = json_node_get_object (root);
  /* The sampler with the lowest node id, so the choice is stable. */
  g_autoptr (GList) members = json_object_get_members (graph);
  g_autoptr (GPtrArray) ids = g_ptr_array_new ();
  for (GList *l = members; l; l = l->next)
    g_ptr_array_add (ids, l->data);
  g_ptr_array_sort (ids, compare_node_ids);
  const char *sampler_id = NULL;
  for (guint i = 0; i < ids->len && !sampler_id; i++)
    {
      const char *type = node_class (graph, ids->pdata[i]);
      if (g_str_has_prefix (type, "KSampler") && node_inputs (graph, ids->pdata[i]))
        sampler_id = ids->pdata[i];
    }
  if (!sampler_id)
    {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                   "ComfyUI prompt has no KSampler node");
      return NULL;
    }
  JsonObject *inputs = node_inputs (graph, sampler_id);
  SfInfotext *infotext = sf_infotext_new ();
  double number;
  if (input_number (graph, inputs, "seed", &number) || input_number (graph, inputs, "noise_seed", &number))
    {
      infotext->has_seed = number >= 0;
      infotext->seed = number >= 0 ? (guint64) number : 0;
      JsonNode *exact = resolve_input (graph, inputs, "seed", 0);
      if (!exact)
        exact = resolve_input (graph, inputs, "noise_seed", 0);
      if (exact && json_node_get_value_type (exact) == G_TYPE_INT64 && json_node_get_int (exact) >= 0)
        infotext->seed = (guint64) json_node_get_int (exact);
    }
  if (input_number (graph, inputs, "steps", &number) && number > 0 && number < G_MAXINT)
    infotext->steps = (int) number;
  if (input_number (graph, inputs, "cfg", &number))
    infotext->cfg_scale = number;
  if (input_number (graph, inputs, "denoise", &number))
    infotext->denoising_strength = number;
  infotext->sampler = input_string (graph, inputs, "sampler_name");
  infotext->scheduler = input_string (graph, inputs, "scheduler");
  infotext->prompt = find_text (graph, json_object_get_member (inputs, "positive"), 0);
  infotext->negative_prompt = find_text (graph, json_object_get_member (inputs, "negative"), 0);
  if (!infotext->prompt)
    infotext->prompt = g_strdup ("");
  if (!infotext->negative_prompt)
    infotext->negative_prompt = g_strdup ("");
  find_size (graph, json_object_get_member (inputs, "latent_image"), infotext, 0);
  infotext->model = find_model (graph, json_object_get_member (inputs, "model"), 0);
  return infotext;
}

/* ---- ComfyUI: the editor's workflow ------------------------------- */

typedef struct {
  JsonArray *nodes;
  JsonArray *links;
} Workflow;

static JsonObject *
workflow_node (const Workflow *workflow, gint64 id)
{
  for (guint i = 0; i < json_array_get_length (workflow->nodes); i++)
    {
      JsonNode *node = json_array_get_element (workflow->nodes, i);
      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      JsonObject *object = json_node_get_object (node);
      JsonNode *node_id = json_object_get_member (object, "id");
      if (node_id && JSON_NODE_HOLDS_VALUE (node_id) && json_node_get_value_type (node_id) == G_TYPE_INT64
          && json_node_get_int (node_id) == id)
        return object;
    }
  return NULL;
}

static const char *
workflow_type (JsonObject *node)
{
  JsonNode *type = node ? json_object_get_member (node, "type") : NULL;
  return type && JSON_NODE_HOLDS_VALUE (type) && json_node_get_value_type (type) == G_TYPE_STRING
           ? json_node_get_string (type) : "";
}

/* widgets_values[index], or NULL. */
static JsonNode *
workflow_widget (JsonObject *node, guint index)
{
  JsonNode *values = node ? json_object_get_member (node, "widgets_values") : NULL;
  if (!values || !JSON_NODE_HOLDS_ARRAY (values))
    return NULL;
  JsonArray *array = json_node_get_array (values);
  if (index >= json_array_get_length (array))
    return NULL;
  JsonNode *value = json_array_get_element (array, index);
  return JSON_NODE_HOLDS_VALUE (value) ? value : NULL;
}

static gboolean
widget_number (JsonObject *node, guint index, double *out)
{
  JsonNode *value = workflow_widget (node, index);
  if (!value || (json_node_get_value_type (value) != G_TYPE_INT64
                 && json_node_get_value_type (value) != G_TYPE_DOUBLE))
    return FALSE;
  *out = json_node_get_double (value);
  return TRUE;
}

static char *
widget_string (JsonObject *node, guint index)
{
  JsonNode *value = workflow_widget (node, index);
  return value && json_node_get_value_type (value) == G_TYPE_STRING ? g_strdup (json_node_get_string (value)) : NULL;
}

/* The node feeding @node's input @name, through the links table. */
static JsonObject *
workflow_input (const Workflow *workflow, JsonObject *node, const char *name)
{
  JsonNode *inputs = node ? json_object_get_member (node, "inputs") : NULL;
  if (!inputs || !JSON_NODE_HOLDS_ARRAY (inputs))
    return NULL;
  JsonArray *array = json_node_get_array (inputs);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *input = json_array_get_element (array, i);
      if (!JSON_NODE_HOLDS_OBJECT (input))
        continue;
      JsonObject *object = json_node_get_object (input);
      JsonNode *input_name = json_object_get_member (object, "name");
      JsonNode *link = json_object_get_member (object, "link");
      if (!input_name || !JSON_NODE_HOLDS_VALUE (input_name)
          || json_node_get_value_type (input_name) != G_TYPE_STRING
          || strcmp (json_node_get_string (input_name), name) != 0 || !link || !JSON_NODE_HOLDS_VALUE (link)
          || json_node_get_value_type (link) != G_TYPE_INT64)
        continue;
      gint64 link_id = json_node_get_int (link);
      for (guint l = 0; workflow->links && l < json_array_get_length (workflow->links); l++)
        {
          JsonNode *entry = json_array_get_element (workflow->links, l);
          if (!JSON_NODE_HOLDS_ARRAY (entry) || json_array_get_length (json_node_get_array (entry)) < 2)
            continue;
          JsonArray *fields = json_node_get_array (entry);
          JsonNode *id = json_array_get_element (fields, 0), *from = json_array_get_element (fields, 1);
          if (JSON_NODE_HOLDS_VALUE (id) && json_node_get_value_type (id) == G_TYPE_INT64
              && json_node_get_int (id) == link_id && JSON_NODE_HOLDS_VALUE (from)
              && json_node_get_value_type (from) == G_TYPE_INT64)
            return workflow_node (workflow, json_node_get_int (from));
        }
    }
  return NULL;
}

/* The text of the encoder feeding @name, through conditioning nodes. */
static char *
workflow_text (const Workflow *workflow, JsonObject *node, const char *name, int depth)
{
  JsonObject *source = workflow_input (workflow, node, name);
  if (!source || depth > MAX_LINK_DEPTH)
    return NULL;
  if (g_str_has_prefix (workflow_type (source), "CLIPTextEncode"))
    return widget_string (source, 0);
  static const char *const through[] = { "conditioning", "conditioning_1", "conditioning_to", NULL };
  for (int i = 0; through[i]; i++)
    {
      char *text = workflow_text (workflow, source, through[i], depth + 1);
      if (text)
        return text;
    }
  return NULL;
}

SfInfotext *
sf_infotext_parse_comfyui_workflow (const char *workflow_json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, workflow_json, -1, error))
    return NULL;
  JsonNode *root = json_parser_get_root (parser);
  JsonNode *nodes = root && JSON_NODE_HOLDS_OBJECT (root)
                      ? json_object_get_member (json_node_get_object (root), "nodes") : NULL;
  if (!nodes || !JSON_NODE_HOLDS_ARRAY (nodes))
    {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                   "ComfyUI workflow has no list of nodes");
      return NULL;
    }
  JsonNode *links = json_object_get_member (json_node_get_object (root), "links");
  Workflow workflow = { json_node_get_array (nodes),
                        links && JSON_NODE_HOLDS_ARRAY (links) ? json_node_get_array (links) : NULL };
  JsonObject *sampler = NULL;
  gint64 lowest = G_MAXINT64;
  for (guint i = 0; i < json_array_get_length (workflow.nodes); i++)
    {
      JsonNode *node = json_array_get_element (workflow.nodes, i);
      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      JsonObject *object = json_node_get_object (node);
      JsonNode *id = json_object_get_member (object, "id");
      const char *type = workflow_type (object);
      if ((strcmp (type, "KSampler") == 0 || strcmp (type, "KSamplerAdvanced") == 0) && id
          && JSON_NODE_HOLDS_VALUE (id) && json_node_get_value_type (id) == G_TYPE_INT64
          && json_node_get_int (id) < lowest)
        {
          lowest = json_node_get_int (id);
          sampler = object;
        }
    }
  if (!sampler)
    {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                   "ComfyUI workflow has no KSampler node");
      return NULL;
    }
  /* KSampler: seed, control, steps, cfg, sampler, scheduler, denoise.
   * KSamplerAdvanced: add_noise, seed, control, steps, cfg, sampler,
   * scheduler, start, end, leftover noise. */
  guint first = strcmp (workflow_type (sampler), "KSamplerAdvanced") == 0 ? 1 : 0;
  SfInfotext *infotext = sf_infotext_new ();
  JsonNode *seed = workflow_widget (sampler, first);
  if (seed && json_node_get_value_type (seed) == G_TYPE_INT64 && json_node_get_int (seed) >= 0)
    {
      infotext->has_seed = TRUE;
      infotext->seed = (guint64) json_node_get_int (seed);
    }
  double number;
  if (widget_number (sampler, first + 2, &number) && number > 0 && number < G_MAXINT)
    infotext->steps = (int) number;
  if (widget_number (sampler, first + 3, &number))
    infotext->cfg_scale = number;
  infotext->sampler = widget_string (sampler, first + 4);
  infotext->scheduler = widget_string (sampler, first + 5);
  if (!first && widget_number (sampler, 6, &number))
    infotext->denoising_strength = number;
  infotext->prompt = workflow_text (&workflow, sampler, "positive", 0);
  infotext->negative_prompt = workflow_text (&workflow, sampler, "negative", 0);
  if (!infotext->prompt)
    infotext->prompt = g_strdup ("");
  if (!infotext->negative_prompt)
    infotext->negative_prompt = g_strdup ("");
  JsonObject *latent = workflow_input (&workflow, sampler, "latent_image");
  double width, height;
  if (latent && widget_number (latent, 0, &width) && widget_number (latent, 1, &height) && width > 0
      && height > 0 && width < G_MAXINT && height < G_MAXINT)
    {
      infotext->width_px = (int) width;
      infotext->height_px = (int) height;
    }
  JsonObject *model = workflow_input (&workflow, sampler, "model");
  for (int depth = 0; model && depth < MAX_LINK_DEPTH && !infotext->model; depth++)
    {
      if (g_str_has_prefix (workflow_type (model), "CheckpointLoader"))
        infotext->model = widget_string (model, 0);
      else
        model = workflow_input (&workflow, model, "model");
    }
  return infotext;
}
