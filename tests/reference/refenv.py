"""Environment for the Sfumato reference script: import paths, package
metadata for the source checkouts, the CLIP vocabulary files, and the two
runtime patches that Debian's torch 1.13 and a tokenizers-less transformers
need.  Nothing here copies code from diffusers or transformers.

Everything this module writes goes to the scratch folder (outside the
repository); see README.md."""

import gzip
import json
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
STUBS = os.path.join(HERE, "stubs")

# Source checkouts used for the committed data (README.md says how to make them).
PINNED = {
    "diffusers": ("huggingface/diffusers", "v0.25.0", "9c90f477150e55d5d12f993708404e9bf8e47521"),
    "huggingface_hub": ("huggingface/huggingface_hub", "v0.20.1", "7f551e29ff4ad05615cb38530a8940811f9e5936"),
    "transformers": ("Birch-san/transformers", "49b69fe0", "49b69fe0d4885e258dbf657e35c445a94ffd09ae"),
    "CLIP": ("openai/CLIP", "d05afc4", "d05afc436d78f1c48dc0dbf8e5980a9d471f35f6"),
    "ftfy": ("rspeer/python-ftfy", "v6.1.1", "02a634c7bb8e35c281d4088d8c0efd5bf3feef4b"),
    "a1111": ("AUTOMATIC1111/stable-diffusion-webui", "28bd8e14 (modules/prompt_parser.py only)",
              "28bd8e142d5f77b71ae8d7d7140b5da1b3a49906"),
}


def write_dist_info(meta_dir, name, version):
    """A minimal *.dist-info so importlib.metadata finds a package that is
    only a source checkout on sys.path (transformers checks versions)."""
    d = os.path.join(meta_dir, "%s-%s.dist-info" % (name, version))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version))


def setup_paths(checkouts, scratch):
    """Put the stubs and checkouts first on sys.path.  Must run before
    transformers/diffusers are imported."""
    meta = os.path.join(scratch, "meta")
    write_dist_info(meta, "huggingface_hub", "0.20.1")
    # diffusers only exposes its pipelines when it finds transformers' metadata.
    write_dist_info(meta, "transformers", "4.33.0.dev0")
    paths = [
        STUBS,
        meta,
        os.path.join(checkouts, "diffusers", "src"),
        os.path.join(checkouts, "transformers", "src"),
        os.path.join(checkouts, "hfhub", "src"),
        os.path.join(checkouts, "a1111"),
    ]
    for p in paths:
        if not os.path.isdir(p):
            raise SystemExit("missing folder %s: see tests/reference/README.md" % p)
    sys.path[:0] = paths
    # Never reach the network (there is none; fail fast instead of retrying).
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["DIFFUSERS_OFFLINE"] = "1"
    os.environ["HF_HOME"] = os.path.join(scratch, "hf-home")


def apply_patches():
    """The two runtime patches (see README.md, "Patches")."""
    import torch
    from transformers import tokenization_utils_base

    # 1. Without the `tokenizers` package transformers defines AddedToken as
    #    a dataclass whose str() is its repr, so special tokens such as
    #    "<|endoftext|>" would be looked up under the wrong text.
    AddedToken = tokenization_utils_base.AddedToken
    if str(AddedToken("x")) != "x":
        AddedToken.__str__ = lambda self: self.content

    # 2. torch 1.13's CPU baddbmm with beta=0 still reads its input, and
    #    diffusers' attention passes torch.empty(): NaN can leak in.  A
    #    zeroed input gives the same result whenever the input is finite.
    if not getattr(torch.baddbmm, "_sfumato_patched", False):
        orig = torch.baddbmm

        def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
            if beta == 0:
                input = torch.zeros_like(input)
            if out is not None:
                return orig(input, batch1, batch2, beta=beta, alpha=alpha, out=out)
            return orig(input, batch1, batch2, beta=beta, alpha=alpha)

        baddbmm._sfumato_patched = True
        torch.baddbmm = baddbmm


# ---------------------------------------------------------------------------
# CLIP vocabulary (data from elsewhere: written to scratch, never committed)


def bytes_to_unicode():
    """GPT-2/CLIP byte <-> printable-character table (as openai/CLIP's
    simple_tokenizer.bytes_to_unicode describes it)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + \
        list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


N_MERGES = 49152 - 256 - 2  # 48894 merge lines follow the header line


def build_clip_vocab(bpe_gz, out_dir):
    """vocab.json + merges.txt for transformers' slow CLIPTokenizer, built the
    way openai/CLIP's SimpleTokenizer builds its encoder: 256 byte chars,
    the same with "</w>", one token per merge, then the two specials."""
    os.makedirs(out_dir, exist_ok=True)
    lines = gzip.open(bpe_gz).read().decode("utf-8").split("\n")
    header = lines[0]
    merges = lines[1:N_MERGES + 1]
    assert len(merges) == N_MERGES
    byte_chars = list(bytes_to_unicode().values())
    vocab = byte_chars + [c + "</w>" for c in byte_chars]
    vocab += ["".join(m.split()) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    assert len(vocab) == 49408 and len(set(vocab)) == 49408
    with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(vocab)}, f, ensure_ascii=False)
    with open(os.path.join(out_dir, "merges.txt"), "w", encoding="utf-8") as f:
        f.write(header + "\n" + "\n".join(merges) + "\n")
    return out_dir


def hf_clip_tokenizer(vocab_dir, pad_token="<|endoftext|>"):
    """transformers' slow CLIPTokenizer as SDXL's tokenizer/ (pad
    "<|endoftext|>") or tokenizer_2/ (pad "!") folders configure it:
    model_max_length 77, bos <|startoftext|>, eos/unk <|endoftext|>."""
    from transformers import CLIPTokenizer
    return CLIPTokenizer(
        os.path.join(vocab_dir, "vocab.json"),
        os.path.join(vocab_dir, "merges.txt"),
        errors="replace",
        unk_token="<|endoftext|>",
        bos_token="<|startoftext|>",
        eos_token="<|endoftext|>",
        pad_token=pad_token,
        model_max_length=77,
    )


def import_ftfy(checkouts, keep=False):
    """ftfy from the checkout CHECKOUTS/ftfy (tag v6.1.1; it needs Debian's
    python3-wcwidth). Unless @keep, it is imported without leaving it on
    sys.path or in sys.modules, so that transformers still finds no ftfy
    and keeps its own fallback cleanup (as the committed hf_slow ids were
    made). ftfy then cannot load its "utf-8-variants" codec lazily: a text
    that needs it fails loudly (ModuleNotFoundError); the tokenizer prompts
    do not."""
    import importlib
    path = os.path.join(checkouts, "ftfy")
    if not os.path.isdir(os.path.join(path, "ftfy")):
        raise SystemExit("missing folder %s: see tests/reference/README.md" % path)
    saved = {k: v for k, v in sys.modules.items() if k == "ftfy" or k.startswith("ftfy.")}
    sys.path.insert(0, path)
    if keep:
        return importlib.import_module("ftfy")
    try:
        ftfy = importlib.import_module("ftfy")
    finally:
        sys.path.remove(path)
        for k in [k for k in sys.modules if k == "ftfy" or k.startswith("ftfy.")]:
            del sys.modules[k]
        sys.modules.update(saved)
    return ftfy


def openai_simple_tokenizer(checkouts, bpe_gz):
    """openai/CLIP's SimpleTokenizer from the checkout, with the real ftfy
    (import_ftfy) in sys.modules only while clip.simple_tokenizer imports."""
    import importlib.util
    path = os.path.join(checkouts, "CLIP", "clip", "simple_tokenizer.py")
    ftfy = import_ftfy(checkouts)
    had = sys.modules.get("ftfy")
    sys.modules["ftfy"] = ftfy
    try:
        # Loaded by file path: the clip package's __init__ needs torchvision.
        spec = importlib.util.spec_from_file_location("openai_clip_simple_tokenizer", path)
        st = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(st)
    finally:
        if had is None:
            del sys.modules["ftfy"]
        else:
            sys.modules["ftfy"] = had
    return st.SimpleTokenizer(bpe_path=bpe_gz)
