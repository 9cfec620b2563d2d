"""tests/data/tokenizer-cases.json and tests/data/prompt-attention-cases.json."""

import os

import refenv
from recorder import write_json
from text_cases import ATTENTION_PROMPTS, TOKENIZER_PROMPTS


def tokenizer_cases(args, vocab_dir, tok_dirs):
    from transformers import CLIPTokenizer
    oa = refenv.openai_simple_tokenizer(os.path.abspath(args.checkouts), args.bpe)
    hf = CLIPTokenizer.from_pretrained(tok_dirs["tokenizer"])  # pad <|endoftext|>: the normal behaviour
    hf2 = CLIPTokenizer.from_pretrained(tok_dirs["tokenizer_2"])  # pad "!": diffusers' tokenizer_2
    bos, eos = oa.encoder["<|startoftext|>"], oa.encoder["<|endoftext|>"]
    cases = []
    n_diff = 0
    for p in TOKENIZER_PROMPTS:
        ids = [bos] + oa.encode(p) + [eos]
        hf_ids = hf(p, padding=False, truncation=False).input_ids
        hf2_ids = hf2(p, padding=False, truncation=False).input_ids
        c = {"prompt": p, "ids": ids, "n_tokens": len(ids)}
        if hf_ids != ids:
            c["hf_slow_ids"] = hf_ids
            n_diff += 1
        if hf2_ids != hf_ids:
            c["hf_slow_pad_bang_ids"] = hf2_ids
        cases.append(c)
    doc = {
        "description": (
            "CLIP BPE token ids, BOS (49406) and EOS (49407) included, no truncation, no padding. "
            "'ids' come from openai/CLIP clip/simple_tokenizer.py (commit %s) with ftfy %s (python-ftfy commit %s): "
            "basic_clean = ftfy.fix_text, html.unescape twice, strip, then whitespace_clean "
            "(\\s+ -> ' ', strip), lower(), regex split, byte-level BPE. 'hf_slow_ids' is present where "
            "transformers' slow CLIPTokenizer (no ftfy: BasicTokenizer(strip_accents=False, "
            "do_split_on_punc=False) cleanup, which drops control characters, splits CJK characters apart and "
            "does not unescape HTML) gives other ids. 'hf_slow_pad_bang_ids' is present where SDXL's tokenizer_2 "
            "as diffusers loads it (pad_token '!') differs again: it maps every literal '!' to id 0 "
            "(diffusers issue #4153)." % (refenv.PINNED["CLIP"][2], refenv.PINNED["ftfy"][1], refenv.PINNED["ftfy"][2])),
        "vocabulary": "../shared/clip/bpe_simple_vocab_16e6.txt.gz (49408 tokens)",
        "bos": bos, "eos": eos,
        "n_cases": len(cases), "n_differ_from_hf_slow": n_diff,
        "cases": cases,
    }
    write_json(os.path.join(args.out, "tokenizer-cases.json"), doc)
    print("tokenizer-cases.json: %d prompts, %d differ between openai and transformers" % (len(cases), n_diff))


def attention_cases(args):
    import importlib
    pp = importlib.import_module("modules.prompt_parser")
    cases = []
    for p in ATTENTION_PROMPTS:
        try:
            cases.append({"prompt": p, "parsed": pp.parse_prompt_attention(p)})
        except Exception as e:  # A1111 itself fails on some inputs, e.g. "(a:1.2.3)"
            cases.append({"prompt": p, "error": "%s: %s" % (type(e).__name__, e)})
    doc = {
        "description": (
            "Output of AUTOMATIC1111/stable-diffusion-webui modules/prompt_parser.py parse_prompt_attention "
            "(commit %s): a list of [text, weight] pairs. Weights are Python floats (products of 1.1, 1/1.1 "
            "and explicit weights, in the parser's order of multiplication); a BREAK is the pair "
            "['BREAK', -1]. Where the parser raises, 'error' holds the Python exception instead of 'parsed'." % refenv.PINNED["a1111"][2]),
        "n_cases": len(cases),
        "cases": cases,
    }
    write_json(os.path.join(args.out, "prompt-attention-cases.json"), doc)
    print("prompt-attention-cases.json: %d prompts" % len(cases))
