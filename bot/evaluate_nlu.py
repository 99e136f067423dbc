"""`make eval-nlu`: our BERT pipeline against Rasa's default DIET pipeline,
side by side in one run, on the same data.

For each pipeline: train on bot/data (timed), measure the packed model's
size, parse the held-out file one message at a time (latency p50/p95), and
score intent accuracy, macro-F1 and entity precision/recall/F1 on exact
spans and types. The BERT model is scored as served (int8 linear layers)
and, on the held-out set, once more with its trained fp32 weights. With
`--folds K`, the same is done with K-fold cross-validation over the
training data. Writes a section of docs/benchmarks.md,
docs/nlu-confusion.png and reports/nlu-eval.json."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from tabulate import tabulate

from chatrec.reports import percentile

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "bot" / "data" / "nlu.yml"
HELD_OUT = ROOT / "bot" / "tests" / "nlu_heldout.yml"
OURS = ROOT / "bot" / "config.yml"
BERT = "BERT (ours, as served: int8 weights)"
BERT_FP32 = "BERT (ours, same model, fp32 weights)"
DIET_NAME = "DIET (Rasa default)"
# Rasa's default pipeline (what `rasa init` writes), NLU part.
DIET = """recipe: default.v1
assistant_id: diet-baseline
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: RegexFeaturizer
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: 100
    random_seed: 42
  - name: EntitySynonymMapper
  - name: FallbackClassifier
    threshold: 0.3
    ambiguity_threshold: 0.1
"""


def _spans(entities: list[dict]) -> set[tuple[int, int, str]]:
    return {(e["start"], e["end"], e["entity"]) for e in entities}


def score(gold: list, parsed: list[dict]) -> dict:
    """Intent accuracy and macro-F1; entity P/R/F1 on exact (start, end, type)."""
    from sklearn.metrics import f1_score

    truth = [m.get("intent") for m in gold]
    predicted = [p["intent"]["name"] for p in parsed]
    tp = fp = fn = 0
    for message, result in zip(gold, parsed):
        want, got = _spans(message.get("entities", [])), _spans(result.get("entities", []))
        tp, fp, fn = tp + len(want & got), fp + len(got - want), fn + len(want - got)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "intent_accuracy": float(np.mean([t == p for t, p in zip(truth, predicted)])),
        # macro over the intents of the data: a fallback prediction is an error for its true intent
        "intent_macro_f1": float(f1_score(truth, predicted, labels=sorted(set(truth)), average="macro",
                                          zero_division=0)),
        "entity_precision": precision, "entity_recall": recall,
        "entity_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
    }


def parse_all(model: str, messages: list) -> dict:
    """Parse one message at a time through Rasa's Agent; scores and latency."""
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    asyncio.run(agent.parse_message("warm up"))
    parsed, latencies = [], []
    for message in messages:
        start = time.perf_counter()
        parsed.append(asyncio.run(agent.parse_message(message.get("text"))))
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    return {**score(messages, parsed), "parse_p50_ms": statistics.median(latencies),
            "parse_p95_ms": percentile(latencies, 95),
            "predicted": [p["intent"]["name"] for p in parsed]}


def train(config: Path, train_file: Path, folder: Path) -> tuple[str, dict]:
    from rasa.model_training import train_nlu

    started = time.perf_counter()
    model = train_nlu(str(config), str(train_file), str(folder))
    return model, {"training_seconds": time.perf_counter() - started,
                   "model_mb": Path(model).stat().st_size / 2**20}


def run_pipeline(config: Path, train_file: Path, test_messages: list, folder: Path) -> dict:
    model, facts = train(config, train_file, folder)
    return {**parse_all(model, test_messages), **facts}


def _write_data(messages: list, path: Path) -> None:
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    RasaYAMLWriter().dump(path, TrainingData(training_examples=messages))


def cross_validate(config: Path, messages: list, folds: int, folder: Path) -> dict:
    order = np.random.default_rng(42).permutation(len(messages))
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    for fold in range(folds):
        test_index = set(order[fold::folds].tolist())
        train = [m for i, m in enumerate(messages) if i not in test_index]
        test = [m for i, m in enumerate(messages) if i in test_index]
        _write_data(train, folder / f"fold{fold}.yml")
        results.append(run_pipeline(config, folder / f"fold{fold}.yml", test, folder / f"fold{fold}"))
    keys = ("intent_accuracy", "intent_macro_f1", "entity_precision", "entity_recall", "entity_f1")
    return {k: float(np.mean([r[k] for r in results])) for k in keys}


def confusion_png(truth: list[str], predicted: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    figure, axis = plt.subplots(figsize=(11, 10))
    ConfusionMatrixDisplay.from_predictions(truth, predicted, ax=axis, xticks_rotation="vertical",
                                            colorbar=False)
    axis.set_title("BERT pipeline as served, held-out set")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def render(results: dict, held_out: int, folds: int) -> str:
    rows = []
    for name, r in results.items():
        rows.append([name, f"{r['intent_accuracy']:.3f}", f"{r['intent_macro_f1']:.3f}",
                     f"{r['entity_precision']:.3f}", f"{r['entity_recall']:.3f}", f"{r['entity_f1']:.3f}",
                     f"{r['training_seconds']:.0f}", f"{r['model_mb']:.1f}", f"{r['parse_p50_ms']:.1f}",
                     f"{r['parse_p95_ms']:.1f}"])
    text = [f"Held-out set ({held_out} messages, never trained on); training on bot/data/nlu.yml:", "",
            tabulate(rows, headers=["pipeline", "intent acc", "intent macro-F1", "entity P", "entity R",
                                    "entity F1", "train s", "model MB", "parse p50 ms", "parse p95 ms"],
                     tablefmt="github")]
    if folds:
        cv = [[name, *(f"{r['cv'][k]:.3f}" for k in ("intent_accuracy", "intent_macro_f1", "entity_precision",
                                                     "entity_recall", "entity_f1"))]
              for name, r in results.items() if "cv" in r]
        text += ["", f"{folds}-fold cross-validation over the training data (mean over folds):", "",
                 tabulate(cv, headers=["pipeline", "intent acc", "intent macro-F1", "entity P", "entity R",
                                       "entity F1"], tablefmt="github")]
    return "\n".join(text)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.evaluate_nlu")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (0: held-out only)")
    args = parser.parse_args()
    cache = tempfile.TemporaryDirectory()
    os.environ["RASA_CACHE_DIRECTORY"] = cache.name  # train for real: no cached components
    from rasa.shared.nlu.training_data.loading import load_data

    from chatrec.reports import machine, write_section
    from chatrec.settings import environment

    held_out = load_data(str(HELD_OUT)).intent_examples
    training = load_data(str(TRAIN)).intent_examples
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        diet_config = Path(folder) / "diet.yml"
        diet_config.write_text(DIET)
        bert, facts = train(OURS, TRAIN, Path(folder) / "BERT")
        results[BERT] = {**parse_all(bert, held_out), **facts}
        with environment({"CHATREC_BERT_QUANTIZE": "0"}):  # the same trained model, weights as trained
            results[BERT_FP32] = {**parse_all(bert, held_out), **facts}
        results[DIET_NAME] = run_pipeline(diet_config, TRAIN, held_out, Path(folder) / "DIET")
        if args.folds:
            for name, config in ((BERT, OURS), (DIET_NAME, diet_config)):
                results[name]["cv"] = cross_validate(config, training, args.folds, Path(folder) / f"cv-{name[:4]}")
    confusion_png([m.get("intent") for m in held_out], results[BERT]["predicted"],
                  ROOT / "docs" / "nlu-confusion.png")
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "nlu-eval.json").write_text(json.dumps(
        {name: {k: v for k, v in r.items() if k != "predicted"} for name, r in results.items()}, indent=2))
    scope = f"{args.folds}-fold cross-validation too" if args.folds else "held-out only, `--folds 0`"
    text = (f"Machine: {machine()}. Measured by `python -m bot.evaluate_nlu --folds {args.folds}` "
            f"({scope}), one run; "
            "entity scores on exact (start, end, type); parse latency one message at a time through "
            "`Agent.parse_message`.\n\n" + render(results, len(held_out), args.folds)
            + "\n\n![confusion matrix](nlu-confusion.png)")
    print(text)
    write_section(ROOT / "docs" / "benchmarks.md", "nlu-eval", "NLU: BERT against DIET (`make eval-nlu`)", text)


if __name__ == "__main__":
    main()
