"""tests/data/ftfy-cases.json: ftfy.fix_text's output for prompts pasted
from elsewhere, the reference for compute/clip_fix.c.

ftfy is imported from a source checkout (CHECKOUTS/ftfy, tag v6.1.1), with
Debian's python3-wcwidth and python3-regex; nothing of ftfy is copied here. Each case also
gets the CLIP token ids that openai/CLIP's simple_tokenizer.py (with that
ftfy) gives the text, BOS and EOS included. See README.md, "ftfy". Run
from the repository root:

    /usr/bin/python3 tests/reference/ftfy_reference.py --checkouts /work/ref --bpe ../shared/clip/bpe_simple_vocab_16e6.txt.gz

Sfumato runs fix_text without its fix_encoding step (the mojibake repair,
whose heuristic is ftfy's own data; see compute/clip_fix.h), so 'fixed' and
the ids are made with fix_encoding=False, and 'ftfy_default' records what
the default configuration would give where that differs.
"""

import argparse
import json
import os
import sys

FTFY_TAG = "v6.1.1"
FTFY_COMMIT = "02a634c7bb8e35c281d4088d8c0efd5bf3feef4b"

def sloppy_bytes(byts, enc="cp1252"):
    """@byts read in the single-byte encoding @enc, unassigned bytes as the
    Latin-1 characters (C1 controls) themselves, as browsers and ftfy's
    "sloppy" codecs read them."""
    out = []
    for b in byts:
        try:
            out.append(bytes([b]).decode(enc))
        except UnicodeDecodeError:
            out.append(chr(b))
    return "".join(out)


def sloppy1252(s):
    """UTF-8 bytes of @s read as Windows-1252 (sloppy_bytes)."""
    return sloppy_bytes(s.encode("utf-8"))


def moji(s, enc="cp1252"):
    """Mojibake of @s: its UTF-8 read in @enc."""
    return sloppy_bytes(s.encode("utf-8"), enc)


# (text, covered). Mojibake is made here from the intended text, so the
# list says what each case is.
CASES = [
    # plain prompts that must not change
    ("a photo of a cat", True),
    ("masterpiece, best quality, (portrait:1.2), 8k, highly detailed", True),
    ("A castle on a hill at sunset, by Greg Rutkowski and Alphonse Mucha", True),
    ("[cat|dog] in a field, <lora:style:0.8>", True),
    ("café au lait, naïve art, Ångström", True),
    ("東京の夜景, ネオン, 雨", True),
    ("a cat 🐱 with a hat 🎩, 👨‍👩‍👧 family", True),
    ("Привет мир, красивый пейзаж", True),
    ("Ελληνικά γράμματα", True),
    ("¿Qué? ¡Sí! 50% off — 10 × 20 = 200 ± 5", True),
    ("price 5€, £3, ¥100", True),
    ("Français: «guillemets» et l'été", True),
    ("", True),
    ("   ", True),
    # curly quotes and apostrophes
    ("“portrait of a woman”, cinematic", True),
    ("the artist’s studio, don’t blur", True),
    ("‘single’ and ‛reversed’ quotes", True),
    ("„low double“ and ‟reversed”", True),
    ("modifier letter apostrophe: itʼs", True),
    ("prime ′ and double prime ″ stay", True),
    ("«angle» ‹quotes› stay", True),
    # ligatures
    ("ﬁne art, ﬂowers, ﬀ ﬃ ﬄ", True),
    ("ﬅ and ﬆ ligatures", True),
    ("Ĳsselmeer ĳs", True),
    ("ǅemal ǈ ǋ Ǳ ǲ ǳ ǆ Ǆ ǉ Ǉ ǌ Ǌ", True),
    ("ŉ Afrikaans", True),
    ("æ œ stay", True),
    # fullwidth and halfwidth
    ("ＡＢＣ１２３", True),
    ("ＬＯＵＤ　ＮＯＩＳＥＳ！", True),
    ("ｆｕｌｌｗｉｄｔｈ（ｐａｒｅｎｓ）", True),
    ("ｶﾀｶﾅ ﾊﾞﾝﾄﾞ", True),
    ("ﾟﾞ halfwidth marks", True),
    ("ﾡﾢﾣ halfwidth hangul", True),
    ("￠￡￥￦ wide currency", True),
    ("￣ fullwidth macron", True),
    ("｟｠ white parens", True),
    ("￨￩￪￫￬￭￮ halfwidth forms", True),
    ("ideographic　space", True),
    # spaces and line breaks
    ("non\u00a0breaking\u00a0space", True),
    ("line one\r\nline two", True),
    ("old mac\rline", True),
    ("unicode\u2028line\u2029para", True),
    ("next\u0085line", True),
    ("tab\there, form\x0cfeed", True),
    ("trailing newline\n", True),
    ("a\n\nb\r\n\r\nc", True),
    # control characters
    ("bell\x07 and soh\x01 and del\x7f", True),  # no NUL: C strings
    ("vertical\x0btab and \x1fseparator", True),
    ("\ufeffbyte order mark", True),
    ("deprecated\u206aarabic\u206f controls", True),
    ("annotation\ufff9x\ufffay\ufffb\ufffc", True),
    ("zero\u200bwidth and joiner\u200dstay", True),
    ("rtl\u200fmark\u202estays", True),
    # C1 controls
    ("\x93quoted\x94 with C1", True),
    ("price \x80 5", True),
    ("undefined \x81 \x8d \x8f \x90 \x9d", True),
    ("ellipsis\x85", True),
    # terminal escapes
    ("\x1b[36;44mblue\x1b[0m text", True),
    ("\x1b[1mbold\x1b[22m", True),
    ("\x1b]0;title\x07 not csi", True),
    ("\x1b[ unterminated", True),
    # mojibake: UTF-8 read as Windows-1252 / Latin-1
    (moji("café"), True),
    (moji("naïve café in Zürich"), True),
    (moji("the artist’s studio"), True),
    (moji("“portrait”"), True),
    (moji("a cat 🐱"), True),
    (moji("✔ No problems"), True),
    (moji("Ångström"), True),
    (moji("señor"), True),
    (moji("Straße"), True),
    (moji("crème brûlée"), True),
    (moji("voilà le travail"), True),
    (moji("à la mode"), True),
    (moji("déjà vu"), True),
    (moji("日本語"), True),
    (moji("Москва"), True),
    (moji("1–2 hours — long"), True),
    (moji("en dash – em dash —"), True),
    ("cafÃ© with ascii", True),
    ("Ã©", True),
    ("sÃ³", True),
    ("The character Ã© is what é looks like as Latin-1", True),
    (moji(moji("café")), True),
    (moji(moji("don’t")), True),
    ("voilÃ le travail", True),
    ("â€œ like this â€\ufffd", True),
    ("lossy â€\ufffd end", True),
    (sloppy1252("naïve") + "\x81", True),
    ("&macr;\\_(ã\x83\x84)_/&macr;", True),
    ("Ã ", True),
    # mojibake inside text that cannot be re-encoded as a whole
    ("cafÃ© 東京", True),
    ("emoji 🐱 and cafÃ©", True),
    ("“quoted” and cafÃ©", True),
    ("日本 " + moji("the artist’s"), True),
    # legitimate text that looks a bit like mojibake
    ("ÆÐÞ þ ð old letters", True),
    ("Â¿ is an inverted question mark", True),
    ("£100 ÷ 4 = £25", True),
    ("ØÙ arabic-looking", True),
    ("×² squared", True),
    # other single-byte encodings
    (moji("Москва", "cp1251"), True),
    (moji("пейзаж", "cp1251"), True),
    (moji("привет", "cp1251"), True),
    (moji("Ελλάδα", "cp1253"), True),
    (moji("Łódź", "cp1250"), True),
    (moji("İstanbul", "cp1254"), True),
    (moji("café", "mac_roman"), True),
    (moji("naïve", "cp437"), True),
    # CESU-8 (UTF-16 surrogates as UTF-8) and Java's C0 80, read as Windows-1252
    (sloppy1252("emoji ") + sloppy_bytes("\ud83d\ude00".encode("utf-8", "surrogatepass")), True),
    ("null " + "\xc0\x80" + " byte", True),
    ("lone " + sloppy_bytes("\ud83d".encode("utf-8", "surrogatepass")) + " surrogate", True),
    ("BOM mojibake ï»¿ before ¿", True),
    # HTML
    ("fish &amp; chips", True),
    ("&lt;b&gt;bold&lt;/b&gt;", True),
    ("&quot;quoted&quot; &#39;single&#39;", True),
    ("&eacute;t&eacute; &EACUTE;T&EACUTE;", True),
    ("&hellip; &mdash; &rsquo;s", True),
    ("&#x2019;s and &#8220;hi&#8221;", True),
    ("&amp;amp;amp; nested", True),
    ("&nbsp;&NBSP;", True),
    ("AT&T and this&not that", True),
    ("&#128; &#0; &#x110000; &#65a;", True),
    ("&NTILDE; &nTILDE; &AMP; &SZLIG;", True),
    ("<b>tag</b> &amp; entity", True),
    ("<tag>\n&amp; after a tag line", True),
    ("&amp; before\n<tag> line", True),
    ("&filig; &ffllig;", True),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkouts", default="/work/ref", help="folder with CLIP/ and ftfy/ (README.md)")
    ap.add_argument("--bpe", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "clip",
                                                  "bpe_simple_vocab_16e6.txt.gz"))
    args = ap.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import refenv
    # No transformers here: ftfy may stay importable (its codecs load lazily).
    ftfy = refenv.import_ftfy(os.path.abspath(args.checkouts), keep=True)
    oa = refenv.openai_simple_tokenizer(os.path.abspath(args.checkouts), args.bpe)
    bos, eos = oa.encoder["<|startoftext|>"], oa.encoder["<|endoftext|>"]
    out = os.path.join(os.path.dirname(__file__), "..", "data", "ftfy-cases.json")
    full_fix_text = ftfy.fix_text
    # What simple_tokenizer.py calls, as Sfumato applies it.
    ftfy.fix_text = lambda text, *args, **kwargs: full_fix_text(text, fix_encoding=False)
    cases = []
    for text, covered in CASES:
        fixed = ftfy.fix_text(text)
        c = {"text": text, "fixed": fixed, "ids": [bos] + oa.encode(text) + [eos]}
        default = full_fix_text(text)
        if default != fixed:
            c["ftfy_default"] = default
        if not covered:
            c["covered"] = False
            del c["ids"]
        cases.append(c)
    doc = {
        "description": (
            "ftfy.fix_text(text, fix_encoding=False) (the default configuration but for the mojibake repair; "
            "'ftfy_default' is the default's output where it differs), ftfy %s (github.com/rspeer/python-ftfy, commit %s), "
            "Python %s. 'covered': false marks fixes that compute/clip_fix.c does not implement; Sfumato leaves "
            "those texts unchanged. 'ids': CLIP token ids of 'text' (BOS and EOS included, no truncation) from "
            "openai/CLIP clip/simple_tokenizer.py (commit %s) with this fix_text, absent for cases not covered." % (
                FTFY_TAG, FTFY_COMMIT, sys.version.split()[0], refenv.PINNED["CLIP"][2])),
        "n_cases": len(cases),
        "cases": cases,
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    changed = sum(1 for c in cases if c["fixed"] != c["text"])
    print("ftfy-cases.json: %d cases, %d changed by ftfy" % (len(cases), changed))


if __name__ == "__main__":
    main()
