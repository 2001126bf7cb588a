"""Token files for language modeling: `titans-train prepare` writes them, `--task lm` reads them.

A prepared directory holds `train.bin` and `val.bin` (token ids, little-endian, uint8 for the
byte tokenizer, uint16 or uint32 for a larger vocabulary), read memory-mapped, and `meta.json`:

    {"format": 1, "tokenizer": "bytes" | "tokenizer.json", "vocab_size": 256, "dtype": "uint8",
     "train_tokens": N, "val_tokens": M, "train_bytes": ..., "val_bytes": ..., "documents": K}

Inputs: plain UTF-8 text files, directories of them (walked in sorted order; hidden entries,
binary and non-UTF-8 files skipped and counted), and JSON-lines files (`.jsonl`) whose records carry a `text` field. Documents are
joined by one blank line. The split is by document order: the last `val_fraction` of the bytes
(at least one document boundary in) goes to validation. Nothing is fetched from a network: the
byte tokenizer needs nothing, and `--tokenizer` is a local `tokenizer.json` read through the
`tokenizers` package.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

FORMAT = 1
SEPARATOR = "\n\n"


class DataError(ValueError):
    """Bad corpus, tokenizer or token directory: one line naming it and the fix."""


def _documents(paths: list[str], skipped: list[str]):
    """(source name, text) per document, in order. A file named on the command line must be text;
    inside a directory, binary and non-UTF-8 files are skipped and listed in `skipped`."""
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise DataError(f"--data {raw}: no such file or directory")
        named = path.is_file()
        files = [path] if named else sorted(
            p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts))
        for f in files:
            data = f.read_bytes()
            why = None
            if b"\0" in data:
                why = "a binary file (it contains NUL bytes)"
            else:
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError as exc:
                    why = f"not UTF-8 text (byte {exc.start})"
            if why:
                if named:
                    raise DataError(f"{f}: {why}; pass text files only")
                skipped.append(str(f))
                continue
            if f.suffix == ".jsonl":
                yield from _jsonl(f, text)
            elif text.strip():
                yield str(f), text


def _jsonl(f: Path, text: str):
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{f}:{n}: not a JSON line ({exc.msg}); each line must be one JSON object") from None
        value = record.get("text") if isinstance(record, dict) else None
        if not isinstance(value, str):
            raise DataError(f"{f}:{n}: no string field 'text' in this record; each line needs one")
        if value.strip():
            yield f"{f}:{n}", value


class ByteTokenizer:
    name = "bytes"
    vocab_size = 256

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))


class FileTokenizer:
    """A local tokenizer.json through the `tokenizers` package."""

    def __init__(self, path: str):
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise DataError("--tokenizer needs the 'tokenizers' package (pip install tokenizers); "
                            "or leave it out for bytes") from None
        if not Path(path).is_file():
            raise DataError(f"--tokenizer {path}: no such file")
        try:
            self._tok = Tokenizer.from_file(path)
        except Exception as exc:   # noqa: BLE001 - the package raises its own exception types
            reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
            raise DataError(f"--tokenizer {path}: does not parse as a tokenizer.json ({reason})") from None
        self.name = Path(path).name
        self.vocab_size = self._tok.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(text).ids


def _split(docs: list[tuple[str, str]], val_fraction: float) -> dict[str, list[tuple[str, str]]]:
    """Validation: the trailing documents holding val_fraction of the bytes (one at least), or,
    with a single document, its tail."""
    if len(docs) == 1:
        name, text = docs[0]
        cut = int(len(text) * (1 - val_fraction))
        return {"train": [(name, text[:cut])], "val": [(name, text[cut:])]}
    sizes = [len(text.encode("utf-8")) for _, text in docs]
    cut, acc = len(docs), 0
    while cut > 1 and acc < val_fraction * sum(sizes):
        cut -= 1
        acc += sizes[cut]
    return {"train": docs[:cut], "val": docs[cut:]}


def _dtype(vocab: int) -> str:
    return "uint8" if vocab <= 256 else "uint16" if vocab <= 65536 else "uint32"


def prepare(paths: list[str], out: str, tokenizer: str | None = None, val_fraction: float = 0.05,
            progress=print) -> dict:
    """Tokenize the corpus at `paths` into `out` (train.bin, val.bin, meta.json); returns the meta."""
    if not 0 < val_fraction < 1:
        raise DataError(f"--val-fraction {val_fraction}: expected a number between 0 and 1")
    tok = FileTokenizer(tokenizer) if tokenizer else ByteTokenizer()
    skipped: list[str] = []
    docs = list(_documents(paths, skipped))
    if skipped:
        progress(f"skipped {len(skipped)} binary or non-UTF-8 files in the directories given (first: {skipped[0]})")
    if not docs:
        raise DataError(f"--data {' '.join(paths)}: no text in it (empty files only); pass a corpus with text")
    parts = _split(docs, val_fraction)
    dirpath = Path(out)
    try:
        dirpath.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"--out {out}: cannot create it ({exc.strerror or exc})") from None
    dtype = _dtype(tok.vocab_size)
    meta = {"format": FORMAT, "tokenizer": tok.name, "vocab_size": tok.vocab_size, "dtype": dtype,
            "documents": len(docs)}
    for split, members in parts.items():
        text = SEPARATOR.join(t for _, t in members)
        ids = np.asarray(tok.encode(text), dtype=dtype)
        tmp = dirpath / f"{split}.bin.tmp{os.getpid()}"
        ids.tofile(tmp)
        os.replace(tmp, dirpath / f"{split}.bin")
        meta[f"{split}_tokens"] = int(ids.size)
        meta[f"{split}_bytes"] = len(text.encode("utf-8"))
        progress(f"{split}: {len(members)} documents, {ids.size:,} tokens")
    (dirpath / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta


@dataclass
class TokenData:
    """A prepared directory, memory-mapped."""

    path: Path
    meta: dict
    train: np.ndarray
    val: np.ndarray

    @classmethod
    def open(cls, path: str) -> TokenData:
        d = Path(path)
        try:
            meta = json.loads((d / "meta.json").read_text())
        except FileNotFoundError:
            raise DataError(f"--data {path}: no meta.json; prepare it first (titans-train prepare --data CORPUS "
                            f"--out {path})") from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise DataError(f"--data {path}: meta.json does not parse; prepare the directory again") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("dtype") not in ("uint8", "uint16",
                                                                                                 "uint32"):
            raise DataError(f"--data {path}: meta.json is not a token directory of format {FORMAT}; prepare it again")
        arrays = {}
        for split in ("train", "val"):
            f = d / f"{split}.bin"
            if not f.is_file():
                raise DataError(f"--data {path}: {split}.bin is missing; prepare the directory again")
            arrays[split] = np.memmap(f, dtype=meta["dtype"], mode="r")
            if arrays[split].size != meta.get(f"{split}_tokens"):
                raise DataError(f"--data {path}: {split}.bin holds {arrays[split].size} tokens, meta.json says "
                                f"{meta.get(f'{split}_tokens')}; prepare the directory again")
        return cls(d, meta, arrays["train"], arrays["val"])

    @property
    def vocab_size(self) -> int:
        return int(self.meta["vocab_size"])

    def bytes_per_token(self, split: str = "val") -> float:
        return self.meta[f"{split}_bytes"] / max(self.meta[f"{split}_tokens"], 1)

    def check_length(self, split: str, length: int, flag: str) -> None:
        have = getattr(self, split).size
        if have < length + 1:
            raise DataError(f"{flag} {length}: the {split} split of {self.path} holds {have} tokens, fewer than one "
                            f"sequence plus its target; use a shorter length or a larger corpus")

    def batch(self, split: str, batch: int, length: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """Random windows: inputs (batch, length) and next-token targets (batch, length), int64."""
        data = getattr(self, split)
        starts = torch.randint(0, data.size - length, (batch,), generator=generator).tolist()
        rows = np.stack([np.asarray(data[s: s + length + 1], dtype=np.int64) for s in starts])
        x = torch.from_numpy(rows)
        return x[:, :-1], x[:, 1:]

    def windows(self, split: str, length: int, count: int):
        """Up to `count` evenly spaced windows of the split (a fixed evaluation set), one at a time."""
        data = getattr(self, split)
        span = data.size - length - 1
        n = max(1, min(count, span + 1))
        for i in range(n):
            s = (span * i) // max(n - 1, 1) if n > 1 else 0
            row = torch.from_numpy(np.asarray(data[s: s + length + 1], dtype=np.int64))[None]
            yield row[:, :-1], row[:, 1:]


def position_buckets(length: int, buckets: int = 8) -> list[tuple[int, int]]:
    """[lo, hi) position ranges covering 0..length, geometric from the start (the first tokens of a
    window see little context, the later ones much)."""
    edges = sorted({0, length} | {min(length, 2 ** k) for k in range(int(math.log2(max(length, 1))) + 1)
                                   if 2 ** k >= length // 2 ** (buckets - 1)})
    return [(a, b) for a, b in zip(edges, edges[1:]) if b > a]
