"""A joint BERT model for intents and entities, in plain PyTorch + transformers.

The encoder is a pretrained BertModel from an installed package
(bot/encoders: multilingual-e5-small for Chinese and English, or the English
all-MiniLM-L6-v2), fine-tuned end to end except its word embeddings, which
stay as pretrained (they are most of a multilingual model's weights, and the
few thousand training sentences see a sliver of its 250,002 pieces). Two
heads sit on it: a softmax over intents on the mean-pooled tokens, and a BIO
tag per word-piece for entities. Word-piece offsets map tags back to
character spans, widened to whole words (a Chinese character is a word of
its own). Rasa glue lives in `bert_nlu.py`.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from chatrec import settings

settings.go_offline()

from safetensors.torch import load_file, save_file  # noqa: E402
from transformers import AutoTokenizer, BertModel  # noqa: E402  (after the offline switches)
from transformers.utils import logging as transformers_logging  # noqa: E402

from bot import encoders  # noqa: E402

OUTSIDE = "O"
IGNORE = -100
MAX_UNKNOWN_SHARE = 0.5  # more word-pieces than this unknown to the vocabulary: nothing to read
_WORD = re.compile(r"\w")
_CONTENT = re.compile(r"[^\W_]")  # a letter or a digit
_NOT_LANGUAGE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|[\x00-\x1f\x7f]")  # terminal escapes, control characters
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
METASPACE = "\u2581"  # SentencePiece's word start; alone, a piece that covers no character
# Chinese particles never start or end an entity, nor rating units end one ("1995年的", "五星"),
# yet a word-piece may glue them to one ("年的", "的老", "五星"): pieces are read without them.
PARTICLES = "的了吗呢吧啊"
UNITS = "星分"
FROZEN = ("embeddings.word_embeddings.weight",)  # encoder weights kept as pretrained (and not saved)


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: tuple[tuple[int, int, str], ...] = ()  # (start, end, label), character offsets


@dataclass
class Prediction:
    ranking: list[tuple[str, float]]  # intents, most likely first
    entities: list[dict] = field(default_factory=list)  # start, end, value, entity, confidence


class JointModel(nn.Module):
    def __init__(self, encoder: BertModel, n_intents: int, n_tags: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.intent_head = nn.Linear(hidden, n_intents)
        self.tag_head = nn.Linear(hidden, n_tags)

    def forward(self, input_ids: torch.Tensor,
                attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).float()
        pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.intent_head(self.dropout(pooled)), self.tag_head(self.dropout(tokens))


def core_offsets(text: str, offsets: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Each piece's (start, end) without Chinese particles at its edges; a piece of particles
    only becomes empty (start == end), like a special token."""
    cores = []
    for start, end in offsets:
        while start < end and text[start] in PARTICLES:
            start += 1
        while end > start and text[end - 1] in PARTICLES + UNITS:
            end -= 1
        cores.append((start, end) if start < end else (start, start))
    return cores


def bio_tags(offsets: Sequence[tuple[int, int]],
             entities: Sequence[tuple[int, int, str]]) -> list[str | None]:
    """A tag per word-piece: B-/I-<label> inside an entity, O outside, None for special tokens."""
    tags: list[str | None] = []
    started: set[int] = set()
    for start, end in offsets:
        if start == end:
            tags.append(None)
            continue
        tag = OUTSIDE
        for index, (e_start, e_end, label) in enumerate(entities):
            if start >= e_start and end <= e_end:
                tag = ("I-" if index in started else "B-") + label
                started.add(index)
                break
        tags.append(tag)
    return tags


def _in_word(text: str, index: int) -> bool:
    """Whether text[index] belongs to a spaced word: a word character other than a Chinese
    character (each is a word of its own), or a hyphen or apostrophe between two of them
    ("sci-fi", "80's")."""
    def spaced_word_character(i: int) -> bool:
        return bool(_WORD.match(text[i])) and not _HAN.match(text[i])

    if not 0 <= index < len(text):
        return False
    if spaced_word_character(index):
        return True
    return (text[index] in "-'" and 0 < index < len(text) - 1
            and spaced_word_character(index - 1) and spaced_word_character(index + 1))


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow a span to whole words, so that a tagged word-piece never cuts a word."""
    while start > 0 and _in_word(text, start - 1) and _in_word(text, start):
        start -= 1
    while end < len(text) and _in_word(text, end) and _in_word(text, end - 1):
        end += 1
    return start, end


def spans(text: str, offsets: Sequence[tuple[int, int]], tags: Sequence[str],
          confidences: Sequence[float]) -> list[dict]:
    """Turn per-piece tags into Rasa-style entity dicts."""
    found: list[dict] = []
    current: dict | None = None
    for (start, end), tag, confidence in zip(offsets, tags, confidences):
        if start == end or tag == OUTSIDE:
            current = None
            continue
        prefix, label = tag.split("-", 1)
        if current is not None and prefix == "I" and current["entity"] == label:
            current["end"] = end
            current["scores"].append(confidence)
            continue
        if current is not None and current["entity"] == label and start <= current["end"]:
            current["end"] = end  # a B- inside the same word continues it
            current["scores"].append(confidence)
            continue
        current = {"start": start, "end": end, "entity": label, "scores": [confidence]}
        found.append(current)
    entities: list[dict[str, Any]] = []
    for item in found:
        start, end = _widen(text, item["start"], item["end"])
        if entities and start < entities[-1]["end"]:
            continue  # widened into the previous entity
        entities.append({"start": start, "end": end, "value": text[start:end], "entity": item["entity"],
                         "confidence": float(np.mean(item["scores"]))})
    return entities


def sortish_batches(lengths: torch.Tensor, batch_size: int, generator: torch.Generator,
                    pool: int = 50) -> list[torch.Tensor]:
    """Random batches of similar lengths (less padding, about a third less time): shuffle, sort
    each pool of `pool` batches by length, cut it into batches, and shuffle the batches."""
    order = torch.randperm(len(lengths), generator=generator)
    batches = []
    for start in range(0, len(order), batch_size * pool):
        chunk = order[start:start + batch_size * pool]
        chunk = chunk[torch.argsort(lengths[chunk], stable=True)]
        batches += list(chunk.split(batch_size))
    return [batches[i] for i in torch.randperm(len(batches), generator=generator)]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """Without transformers' per-load progress bars and key tables (an encoder folder's unused
    pooler weights are expected): a person starting the bot sees our progress, not the library's."""
    verbosity, bars = transformers_logging.get_verbosity(), transformers_logging.is_progress_bar_enabled()
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        transformers_logging.set_verbosity(verbosity)
        if bars:
            transformers_logging.enable_progress_bar()


class JointBert:
    """Fit, predict, save and load the joint model."""

    def __init__(self, intents: Sequence[str], entity_labels: Sequence[str], max_length: int = 64,
                 encoder: str = encoders.MULTILINGUAL, layers: int = 0, seed: int = 42) -> None:
        seed_everything(seed)  # the heads' initial weights come from the global generator
        self.intents = list(intents)
        self.tags = [OUTSIDE] + [f"{p}-{label}" for label in entity_labels for p in ("B", "I")]
        self.max_length = max_length
        self.encoder_name = encoder
        path = str(encoders.folder(encoder))
        with quiet_loading():
            self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            bert = BertModel.from_pretrained(path, local_files_only=True, add_pooling_layer=False)
        if 0 < layers < bert.config.num_hidden_layers:  # the lower layers only: faster, most of the use
            bert.encoder.layer = bert.encoder.layer[:layers]
            bert.config.num_hidden_layers = layers
        self.layers = bert.config.num_hidden_layers
        for name, parameter in bert.named_parameters():
            parameter.requires_grad_(name not in FROZEN)
        self.model = JointModel(bert, len(self.intents), len(self.tags))
        self.quantized = False
        blank = self.tokenizer.convert_tokens_to_ids(METASPACE)
        self._blank = None if blank in (None, self.tokenizer.unk_token_id) else blank

    def _encode(self, texts: Sequence[str]):
        """Word-pieces of `texts` after the encoder's prefix ("query: " for e5), with offsets into
        the texts themselves (the prefix's pieces, like special tokens, at (0, 0))."""
        prefix = encoders.PREFIX.get(self.encoder_name, "")
        encoded = self.tokenizer([prefix + text for text in texts], padding=True, truncation=True,
                                 max_length=self.max_length, return_offsets_mapping=True, return_tensors="pt")
        offsets = encoded["offset_mapping"]
        if prefix:
            in_prefix = offsets[..., 0] < len(prefix)
            offsets -= len(prefix)
            offsets[in_prefix] = 0
        if self._blank is not None:  # "▁" before a Chinese word stands for no character
            offsets[encoded["input_ids"] == self._blank] = 0
        offsets.clamp_(min=0)
        return encoded

    def fit(self, examples: Sequence[Example], epochs: int = 12, batch_size: int = 16,
            learning_rate: float = 5e-5, head_learning_rate: float = 1e-3, seed: int = 42,
            progress: bool = True) -> list[float]:
        """Fine-tune encoder and heads; returns the mean loss per epoch."""
        if self.quantized:
            raise ValueError("a quantized model cannot be trained")
        seed_everything(seed)
        intent_index = {name: i for i, name in enumerate(self.intents)}
        tag_index = {name: i for i, name in enumerate(self.tags)}
        encoded = self._encode([e.text for e in examples])
        tag_ids = torch.full(encoded["input_ids"].shape, IGNORE, dtype=torch.long)
        for row, example in enumerate(examples):
            pieces = core_offsets(example.text, encoded["offset_mapping"][row].tolist())
            for col, tag in enumerate(bio_tags(pieces, example.entities)):
                if tag is not None:
                    tag_ids[row, col] = tag_index[tag]
        intent_ids = torch.tensor([intent_index[e.intent] for e in examples])
        lengths = encoded["attention_mask"].sum(1)
        heads = [p for n, p in self.model.named_parameters() if not n.startswith("encoder.")]
        optimizer = torch.optim.AdamW([
            {"params": [p for p in self.model.encoder.parameters() if p.requires_grad], "lr": learning_rate},
            {"params": heads, "lr": head_learning_rate},
        ], weight_decay=0.01)
        steps = epochs * ((len(examples) + batch_size - 1) // batch_size)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(0.0, 1 - s / max(steps, 1)))
        loss_fn = nn.CrossEntropyLoss(ignore_index=IGNORE)
        # less sure of near-duplicates: steadier under int8
        intent_loss = nn.CrossEntropyLoss(label_smoothing=0.1)
        generator = torch.Generator().manual_seed(seed)
        losses = []
        self.model.train()
        for _ in tqdm(range(epochs), desc="fine-tuning BERT", unit="epoch", disable=not progress):
            total = 0.0
            for batch in sortish_batches(lengths, batch_size, generator):
                mask = encoded["attention_mask"][batch]
                width = int(mask.sum(1).max())
                input_ids = encoded["input_ids"][batch][:, :width]
                intent_logits, tag_logits = self.model(input_ids, mask[:, :width])
                loss = intent_loss(intent_logits, intent_ids[batch]) + loss_fn(
                    tag_logits.reshape(-1, len(self.tags)), tag_ids[batch][:, :width].reshape(-1))
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                total += loss.item() * len(batch)
            losses.append(total / len(examples))
        self.model.eval()
        return losses

    @torch.inference_mode()
    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Intent ranking and entities per text (the model is in eval mode after fit and load)."""
        texts = [t if isinstance(t, str) else "" for t in texts]
        encoded = self._encode(texts)
        intent_logits, tag_logits = self.model(encoded["input_ids"], encoded["attention_mask"])
        intent_probs = intent_logits.softmax(-1).numpy()
        tag_probs = tag_logits.softmax(-1).numpy()
        predictions = []
        unknown = (encoded["input_ids"] == self.tokenizer.unk_token_id).sum(1).numpy()
        pieces = (encoded["attention_mask"].sum(1) - 2).clamp(min=1).numpy()
        for row, text in enumerate(texts):
            no_content = not _CONTENT.search(_NOT_LANGUAGE.sub("", text))
            if no_content or unknown[row] / pieces[row] > MAX_UNKNOWN_SHARE:
                # Nothing the encoder can read (empty, emoji, symbols): an even ranking,
                # which FallbackClassifier turns into nlu_fallback.
                intent_probs[row] = 1.0 / len(self.intents)
                tag_probs[row] = np.eye(len(self.tags))[0]
            order = np.argsort(-intent_probs[row], kind="stable")
            ranking = [(self.intents[i], float(intent_probs[row, i])) for i in order]
            best = tag_probs[row].argmax(-1)
            offsets = core_offsets(text, encoded["offset_mapping"][row].tolist())
            entities = spans(text, offsets, [self.tags[t] for t in best], tag_probs[row].max(-1).tolist())
            predictions.append(Prediction(ranking, entities))
        return predictions

    def quantize(self) -> JointBert:
        """Int8 weights for the linear layers (PyTorch dynamic quantization, per channel), for serving:
        about twice as fast on a CPU; bot/evaluate_nlu.py measures what it costs in accuracy.
        The model can no longer be trained or saved afterwards."""
        with warnings.catch_warnings():  # torch.ao's deprecation notice: it still works in the pinned torch
            warnings.simplefilter("ignore", DeprecationWarning)
            # per output channel: per-tensor scales cost 0.7 points of held-out entity F1 here, these none
            self.model = torch.ao.quantization.quantize_dynamic(
                self.model.eval(), {nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig})
        self.quantized = True
        return self

    def save(self, folder: Path) -> None:
        """The fine-tuned weights only: what stayed as pretrained comes from the encoder's package."""
        if self.quantized:
            raise ValueError("a quantized model cannot be saved; save before quantize()")
        folder.mkdir(parents=True, exist_ok=True)
        tuned = {name: value.contiguous() for name, value in self.model.encoder.state_dict().items()
                 if name not in FROZEN}
        save_file(tuned, str(folder / "encoder.safetensors"))
        torch.save({"intent_head": self.model.intent_head.state_dict(),
                    "tag_head": self.model.tag_head.state_dict()}, folder / "heads.pt")
        (folder / "labels.json").write_text(json.dumps({
            "intents": self.intents, "tags": self.tags, "max_length": self.max_length,
            "encoder": self.encoder_name, "layers": self.layers}))

    @classmethod
    def load(cls, folder: Path) -> JointBert:
        labels = json.loads((folder / "labels.json").read_text())
        if "encoder" not in labels:
            raise ValueError(f"{folder} holds a model of an older format; train it again")
        entity_labels = [t[2:] for t in labels["tags"] if t.startswith("B-")]
        loaded = cls(labels["intents"], entity_labels, labels["max_length"], encoder=labels["encoder"],
                     layers=labels["layers"])
        weights = load_file(str(folder / "encoder.safetensors"))
        missing, unexpected = loaded.model.encoder.load_state_dict(weights, strict=False)
        if set(missing) - set(FROZEN) or unexpected:
            raise ValueError(f"{folder}: encoder weights do not fit ({missing + unexpected})")
        heads = torch.load(folder / "heads.pt", map_location="cpu", weights_only=True)
        loaded.model.intent_head.load_state_dict(heads["intent_head"])
        loaded.model.tag_head.load_state_dict(heads["tag_head"])
        loaded.model.eval()
        return loaded
