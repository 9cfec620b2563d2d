/* ftfy.fix_text (ftfy 6.1.1, github.com/rspeer/python-ftfy), which
 * openai/CLIP's basic_clean runs before html.unescape, so that pasted
 * prompts (curly quotes, ligatures, fullwidth text, stray controls)
 * tokenize as A1111's and open_clip's do — with its default configuration
 * except fix_encoding, ftfy's mojibake repair: that one rests on ftfy's own
 * hand-made character classes and badness heuristic, which are its data,
 * not a published standard, so mojibake ("cafÃ©") is left as it is.
 *
 * As ftfy: the text is fixed line by line (each segment ends after a
 * '\n', at most 1,000,000 characters); once a segment contains '<', HTML
 * is no longer unescaped in it or in any later segment. Each segment is
 * fixed until nothing changes, in ftfy's order:
 *
 *   unescape_html        &name; (HTML5 names with ';', and the upper-case
 *                        forms of all-lower-case names that are not
 *                        themselves entities), &#...; that html.unescape
 *                        consumes whole
 *   fix_c1_controls      U+0080..U+009F read as Windows-1252
 *   fix_latin_ligatures  ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ Ĳ ĳ ŉ Ǆ..ǌ Ǳ..ǳ split
 *   fix_character_width  U+3000 -> space, U+FF01..U+FFEF -> their NFKC
 *   uncurl_quotes        U+02BC U+2018..U+201B -> '   U+201C..U+201F -> "
 *   fix_line_breaks      \r\n \r U+2028 U+2029 U+0085 -> \n
 *   fix_surrogates       nothing to do on UTF-8 input
 *   remove_terminal_escapes  ESC [ digits/';' letter
 *   remove_control_chars U+0000..08 0B 0E..1F 7F 206A..206F FEFF FFF9..FFFC
 *   normalization        NFC
 *
 * Approximate: Unicode tables (NFC, NFKC, digits) are GLib's, which may
 * be a version apart from Python 3.11's; ftfy repeats its loops until
 * nothing changes, Sfumato stops after 32 rounds (real text settles in 2
 * or 3). Checked against ftfy 6.1.1 with fix_encoding=False on
 * tests/data/ftfy-cases.json (126 texts, all equal; 44 of them are
 * mojibake that the default configuration would also repair). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Returns: (transfer full). Invalid UTF-8 is replaced first. */
char *sf_clip_fix_text (const char *text);

G_END_DECLS
