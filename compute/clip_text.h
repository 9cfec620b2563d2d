/* The text side of OpenAI's CLIP tokenizer (clip/simple_tokenizer.py in
 * github.com/openai/CLIP), which both SDXL text encoders use:
 *
 *   clean:  ftfy.fix_text (sf_clip_fix_text, clip_fix.h: what of ftfy is
 *           covered), html.unescape twice, strip; every run of whitespace
 *           becomes one space, strip; lower()
 *   split:  the pattern
 *             <|startoftext|> | <|endoftext|> | 's|'t|'re|'ve|'m|'ll|'d
 *             | \p{L}+ | \p{N} | [^\s\p{L}\p{N}]+
 *           (case-insensitive), matched left to right; what matches none
 *           (whitespace) is skipped. Digits come one at a time.
 *
 * Python's definitions are followed: str.isspace for strip, the regex
 * module's \s (Unicode White_Space) elsewhere, str.lower's full mapping
 * (İ -> i + combining dot, final sigma), html.unescape's numeric
 * references (with the WHATWG replacements) and its named references
 * (the WHATWG list, legacy names also without ';', the longest legacy
 * prefix of an unknown name). Unicode classes come from GLib's tables,
 * which may be a version apart from Python's for new characters. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Each returns: (transfer full). Invalid UTF-8 is replaced first. */
char *sf_clip_html_unescape (const char *text);
char *sf_clip_lower (const char *text);
char *sf_clip_clean (const char *text);
/* Pieces of cleaned text, in order. Returns: (transfer full) (element-type utf8). */
GPtrArray *sf_clip_split (const char *cleaned);

G_END_DECLS
