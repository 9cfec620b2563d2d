#!/usr/bin/python3
"""Regenerate Sfumato's reference data under tests/data/.

Run by hand, outside CI, with Debian's python3-torch and source checkouts
of diffusers / transformers / huggingface_hub / openai CLIP and A1111's
prompt_parser.py (tests/reference/README.md says exactly how).  Every output
is deterministic: fixed seeds, one CPU thread.

    /usr/bin/python3 tests/reference/make_reference.py --checkouts /work/ref

Steps (--only takes a comma list): tokenizer, attention, randn, keys,
models, cases.  "cases" needs the models written by "models".
"""

import argparse
import hashlib
import json
import math
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import refenv  # noqa: E402

STEPS = ["tokenizer", "attention", "randn", "keys", "models", "cases"]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkouts", default="/work/ref",
                    help="folder holding diffusers/, transformers/, hfhub/, CLIP/, a1111/ (default /work/ref)")
    ap.add_argument("--scratch", default=None,
                    help="scratch folder outside the repository (default CHECKOUTS/scratch)")
    ap.add_argument("--bpe", default=os.path.join(REPO, "..", "shared", "clip", "bpe_simple_vocab_16e6.txt.gz"),
                    help="CLIP BPE merges (default ../shared/clip/bpe_simple_vocab_16e6.txt.gz)")
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data"), help="output folder (tests/data)")
    ap.add_argument("--only", default=",".join(STEPS), help="comma list of steps: " + ",".join(STEPS))
    args = ap.parse_args()
    args.scratch = os.path.abspath(args.scratch or os.path.join(args.checkouts, "scratch"))
    args.out = os.path.abspath(args.out)
    args.bpe = os.path.abspath(args.bpe)
    if os.path.commonpath([args.scratch, REPO]) == REPO:
        sys.exit("--scratch must be outside the repository (the CLIP vocabulary is written there)")
    args.only = [s for s in args.only.split(",") if s]
    for s in args.only:
        if s not in STEPS:
            sys.exit("unknown step %s" % s)
    return args


def main():
    args = parse_args()
    refenv.setup_paths(os.path.abspath(args.checkouts), args.scratch)
    import torch
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    refenv.apply_patches()
    import logging
    from diffusers.utils import logging as dlog
    from transformers.utils import logging as tlog
    dlog.set_verbosity_error()
    tlog.set_verbosity_error()
    logging.getLogger("diffusers").setLevel(logging.ERROR)

    os.makedirs(args.out, exist_ok=True)
    vocab_dir = refenv.build_clip_vocab(args.bpe, os.path.join(args.scratch, "clip-tokenizer"))
    tok_dirs = make_tokenizer_folders(vocab_dir, args.scratch)

    import steps_text
    import steps_models
    import steps_cases
    if "tokenizer" in args.only:
        steps_text.tokenizer_cases(args, vocab_dir, tok_dirs)
    if "attention" in args.only:
        steps_text.attention_cases(args)
    if "randn" in args.only:
        steps_cases.randn_cases(args)
    if "keys" in args.only:
        steps_models.key_lists(args)
    if "models" in args.only:
        steps_models.tiny_models(args, tok_dirs)
    if "cases" in args.only:
        steps_cases.pipeline_cases(args, tok_dirs)
    write_sums(args.out)


def make_tokenizer_folders(vocab_dir, scratch):
    """SDXL's tokenizer/ (pad "<|endoftext|>") and tokenizer_2/ (pad "!")
    folders, written by save_pretrained into scratch and read back with
    from_pretrained exactly as a pipeline folder is loaded: that load path is
    what turns "!" into a special token (diffusers issue #4153)."""
    out = {}
    for name, pad in (("tokenizer", "<|endoftext|>"), ("tokenizer_2", "!")):
        d = os.path.join(scratch, "sdxl-" + name)
        shutil.rmtree(d, ignore_errors=True)
        refenv.hf_clip_tokenizer(vocab_dir, pad_token=pad).save_pretrained(d)
        out[name] = d
    return out


def write_sums(data_dir):
    """tests/data/SHA256SUMS: every file under tests/data but itself."""
    lines = []
    for root, dirs, files in os.walk(data_dir):
        dirs.sort()
        for fn in sorted(files):
            p = os.path.join(root, fn)
            rel = os.path.relpath(p, data_dir)
            if rel == "SHA256SUMS":
                continue
            with open(p, "rb") as f:
                lines.append("%s  %s" % (hashlib.sha256(f.read()).hexdigest(), rel))
    lines.sort(key=lambda l: l[66:])
    with open(os.path.join(data_dir, "SHA256SUMS"), "w") as f:
        f.write("\n".join(lines) + "\n")
    total = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    print("wrote %d files; digest of SHA256SUMS %s" % (len(lines), total))


if __name__ == "__main__":
    main()
