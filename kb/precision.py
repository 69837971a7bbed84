"""bfloat16 or float32 for e5-small's passages: whichever runs faster on this machine,
measured once and remembered.

A CPU that reports bfloat16 instructions (AVX512-BF16, AMX) does not always run
bfloat16 products faster: on one machine the passages ran 2.5x faster in bfloat16
(43 against 17 passages/s), on another, reporting the same instructions, 0.6x (12
against 19; bench/README.md, "Encoder"). So the converted model is timed both ways on a
fixed sample, the first time it loads on a machine, and the faster precision is kept
in the cache folder under the processor's name and torch's version. The vectors are
the same either way (cosine 0.9999).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

FILE = "precision.json"
SAMPLE = (
    "passage: La coopérative d'intérêt collectif associe salariés, usagers, bénévoles et "
    "collectivités au capital. Lors de la visite d'étude à Bologne, les partenaires ont "
    "rencontré un consortium de coopératives sociales qui répond aux marchés publics au nom "
    "de ses membres, mutualise la paie et la comptabilité, et verse une part de son chiffre "
    "d'affaires dans un fonds de solidarité. Les ateliers ont porté sur la mesure de "
    "l'impact social, le financement participatif et l'insertion par l'activité économique."
)
"""A passage of the usual length (about 120 tokens) in the corpus's main language."""
BATCH = 4
"""Passages per call, as the encoder sends them."""
ROUNDS = 2
FAVOUR = 1.1
"""bfloat16 is kept only when it is at least this much faster: within that, float32's
exact products win."""


def signature() -> str:
    """The processor's name and torch's version: what the measurement holds for."""
    import torch

    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            name = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                name,
            )
    except OSError:
        pass
    return f"{name} | {os.cpu_count()} cpus | torch {torch.__version__}"


def passages_per_second(encode: Callable[[list[str]], object]) -> float:
    """Passages per second of `encode` on the sample: the best of ROUNDS calls of BATCH
    passages, after one to warm up."""
    texts = [SAMPLE] * BATCH
    encode(texts)
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        encode(texts)
        best = min(best, time.perf_counter() - started)
    return BATCH / best


def remembered(folder: Path) -> str | None:
    """The precision measured on this machine before, if any."""
    try:
        found = json.loads((folder / FILE).read_text(encoding="utf-8"))
        return found[signature()]["precision"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember(folder: Path, precision: str, speeds: dict[str, float]) -> None:
    """Keep `precision` for this machine beside what other machines measured."""
    path = folder / FILE
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
        known = known if isinstance(known, dict) else {}
    except (OSError, ValueError):
        known = {}
    known[signature()] = {
        "precision": precision,
        "passages_per_s": {name: round(speed, 1) for name, speed in speeds.items()},
    }
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, encoding="utf-8") as out:
        json.dump(known, out, indent=1)
    os.replace(out.name, path)


def faster(speeds: dict[str, float]) -> str:
    """bfloat16 when it runs at least FAVOUR times float32's speed, else float32."""
    return "bfloat16" if speeds["bfloat16"] >= FAVOUR * speeds["float32"] else "float32"


def log_choice(precision: str, speeds: dict[str, float]) -> None:
    log.info(
        "e5-small passages in %s on this machine (passages/s: %s)",
        precision,
        ", ".join(f"{name} {speed:.1f}" for name, speed in speeds.items()),
    )
