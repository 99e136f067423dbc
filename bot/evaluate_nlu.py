"""`make eval-nlu`: our BERT pipeline against Rasa's default DIET pipeline, and against the
English-only model it replaced, side by side in one run, on the same data.

The served model is one multilingual BERT (multilingual-e5-small) trained on
the English and Chinese data together (bot/data/nlu.yml, nlu_zh.yml and the
catalog's generated examples, as `make train` does). For each pipeline:
train (timed), measure the packed model's size, parse each held-out set
(English, Chinese; never trained on) one message at a time (latency
p50/p95), and score intent accuracy, macro-F1 and entity
precision/recall/F1 on exact spans and types. The BERT model is scored as
served (int8 linear layers) and, once more, with its trained fp32 weights.
The English-only all-MiniLM-L6-v2 model (what was served before) trains on
the English data only and is scored on the English set. With `--folds K`,
BERT and DIET are also K-fold cross-validated over the training data.
Writes a section of docs/benchmarks.md, docs/nlu-confusion.png and
reports/nlu-eval.json."""

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
import yaml
from tabulate import tabulate

from chatrec.language import HAN
from chatrec.reports import percentile

ROOT = Path(__file__).resolve().parents[1]
TRAIN = [ROOT / "bot" / "data" / "nlu.yml", ROOT / "bot" / "data" / "nlu_zh.yml"]
HELD_OUT = {"English": ROOT / "bot" / "tests" / "nlu_heldout.yml",
            "Chinese": ROOT / "bot" / "tests" / "nlu_heldout_zh.yml"}
OURS = ROOT / "bot" / "config.yml"
BERT = "BERT multilingual (ours, as served: int8)"
BERT_FP32 = "BERT multilingual (same model, fp32)"
MINILM = "BERT English-only MiniLM (before, int8)"
DIET_NAME = "DIET (Rasa default)"
# Rasa's default pipeline (what `rasa init` writes), NLU part; our tokenizer, so that Chinese
# characters are tokens (Rasa's WhitespaceTokenizer reads unspaced Chinese as one word).
DIET = """recipe: default.v1
assistant_id: diet-baseline
language: en
pipeline:
  - name: bot.components.tokenizer.WhitespaceHanTokenizer
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
            "predicted": [p["intent"]["name"] for p in parsed], "parsed": parsed}


def train(config: Path, train_file: Path, folder: Path) -> tuple[str, dict]:
    from rasa.model_training import train_nlu

    started = time.perf_counter()
    model = train_nlu(str(config), str(train_file), str(folder))
    return model, {"training_seconds": time.perf_counter() - started,
                   "model_mb": Path(model).stat().st_size / 2**20}


def run_pipeline(config: Path, train_file: Path, test_messages: list, folder: Path) -> dict:
    model, facts = train(config, train_file, folder)
    return {**parse_all(model, test_messages), **facts}


def _write_data(messages: list, path: Path, synonyms: dict | None = None) -> None:
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    RasaYAMLWriter().dump(path, TrainingData(training_examples=messages, entity_synonyms=synonyms or {}))


def training_data(folder: Path, english_only: bool = False) -> Path:
    """What the served model trains on: both languages' files and the catalog's generated data
    (MovieLens), in one file; `english_only` keeps the messages without Chinese characters."""
    from rasa.shared.nlu.training_data.loading import load_data

    from bot.catalog_nlu import catalog_nlu
    from recommender.data import load_dataset

    catalog = folder / "catalog.yml"
    catalog.write_text(yaml.safe_dump(catalog_nlu(load_dataset("movielens-100k")), allow_unicode=True))
    data = load_data(str(TRAIN[0]))
    for path in [*TRAIN[1:], catalog]:
        data = data.merge(load_data(str(path)))
    messages = [m for m in data.intent_examples if not (english_only and HAN.search(m.get("text")))]
    path = folder / ("train-en.yml" if english_only else "train.yml")
    _write_data(messages, path, {w: v for w, v in data.entity_synonyms.items()
                                 if not (english_only and HAN.search(w))})
    return path


def english_only_config(folder: Path) -> Path:
    """Our pipeline with the English encoder it served before."""
    config = yaml.safe_load(OURS.read_text())
    for component in config["pipeline"]:
        if component["name"].endswith("BertIntentEntityClassifier"):
            component["encoder"] = "all-minilm-l6-v2"
    path = folder / "minilm.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


CV_KEYS = ("intent_accuracy", "intent_macro_f1", "entity_precision", "entity_recall", "entity_f1")


def language_of(message) -> str:
    return "Chinese" if HAN.search(message.get("text")) else "English"


def cross_validate(config: Path, messages: list, folds: int, folder: Path,
                   language: str | None = None) -> dict:
    """Mean scores over K folds, for all messages and (under "by_language") for each language's
    messages of the test folds. With `language`, the same folds (drawn over all `messages`) keep
    only that language's messages, for training and for testing."""
    order = np.random.default_rng(42).permutation(len(messages))
    folder.mkdir(parents=True, exist_ok=True)
    results: list[dict] = []
    by_language: dict[str, list[dict]] = {}
    kept = [language is None or language_of(m) == language for m in messages]
    for fold in range(folds):
        test_index = set(order[fold::folds].tolist())
        train = [m for i, m in enumerate(messages) if i not in test_index and kept[i]]
        test = [m for i, m in enumerate(messages) if i in test_index and kept[i]]
        _write_data(train, folder / f"fold{fold}.yml")
        result = run_pipeline(config, folder / f"fold{fold}.yml", test, folder / f"fold{fold}")
        results.append(result)
        for language in ("English", "Chinese"):
            pairs = [(m, p) for m, p in zip(test, result["parsed"]) if language_of(m) == language]
            if pairs:
                gold, parsed = zip(*pairs)
                by_language.setdefault(language, []).append(score(list(gold), list(parsed)))
    mean = {k: float(np.mean([r[k] for r in results])) for k in CV_KEYS}
    return {**mean, "by_language": {language: {k: float(np.mean([r[k] for r in scores])) for k in CV_KEYS}
                                    for language, scores in by_language.items()}}


def confusion_png(truth: list[str], predicted: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    figure, axis = plt.subplots(figsize=(11, 10))
    ConfusionMatrixDisplay.from_predictions(truth, predicted, ax=axis, xticks_rotation="vertical",
                                            colorbar=False)
    axis.set_title("BERT pipeline as served, English held-out set")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def render(results: dict, held_out: dict[str, int], folds: int) -> str:
    rows = []
    for name, by_language in results.items():
        for language, r in by_language.items():
            if language in held_out:
                rows.append([name, language, f"{r['intent_accuracy']:.3f}", f"{r['intent_macro_f1']:.3f}",
                             f"{r['entity_precision']:.3f}", f"{r['entity_recall']:.3f}",
                             f"{r['entity_f1']:.3f}",
                             f"{by_language['training_seconds']:.0f}", f"{by_language['model_mb']:.1f}",
                             f"{r['parse_p50_ms']:.1f}", f"{r['parse_p95_ms']:.1f}"])
    sizes = ", ".join(f"{language} {count}" for language, count in held_out.items())
    text = [f"Held-out sets ({sizes} messages, never trained on); the multilingual models train on "
            "bot/data/nlu.yml, nlu_zh.yml and the catalog's generated examples, the English-only one on "
            "their English part:", "",
            tabulate(rows, headers=["pipeline", "held-out set", "intent acc", "intent macro-F1", "entity P",
                                    "entity R", "entity F1", "train s", "model MB", "parse p50 ms",
                                    "parse p95 ms"],
                     tablefmt="github")]
    if folds:
        cv = [[name, *(f"{r['cv'][k]:.3f}" for k in ("intent_accuracy", "intent_macro_f1", "entity_precision",
                                                     "entity_recall", "entity_f1"))]
              for name, r in results.items() if "cv" in r]
        heading = f"{folds}-fold cross-validation over the training data (both languages; mean over folds):"
        text += ["", heading, "",
                 tabulate(cv, headers=["pipeline", "intent acc", "intent macro-F1", "entity P", "entity R",
                                       "entity F1"], tablefmt="github")]
    return "\n".join(text)


def _without_parses(result):
    return {k: v for k, v in result.items() if k not in ("predicted", "parsed")} if isinstance(result, dict) \
        else result


def held_out_sets() -> dict[str, list]:
    from rasa.shared.nlu.training_data.loading import load_data

    return {language: load_data(str(path)).intent_examples for language, path in HELD_OUT.items()}


def evaluate(model: str, sets: dict[str, list], facts: dict) -> dict:
    return {**{language: parse_all(model, messages) for language, messages in sets.items()}, **facts}


def cross_validate_ours(folds: int) -> None:
    """`--cv-only`: k-fold cross-validation of our pipeline over the bilingual training data, and of
    the English-only pipeline it replaced over the English part of the same folds."""
    from rasa.shared.nlu.training_data.loading import load_data

    from chatrec.reports import machine, write_section

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        messages = load_data(str(training_data(folder))).intent_examples
        scores = cross_validate(OURS, messages, folds, folder / "cv")
        english_only = cross_validate(english_only_config(folder), messages, folds, folder / "cv-minilm",
                                      language="English")
    counts = {"both": len(messages), "English": sum(language_of(m) == "English" for m in messages)}
    counts["Chinese"] = counts["both"] - counts["English"]
    rows = [[BERT, language, counts[language], *(f"{values[k]:.3f}" for k in CV_KEYS)]
            for language, values in [("both", scores), *scores["by_language"].items()]]
    rows.append([MINILM, "English", counts["English"], *(f"{english_only[k]:.3f}" for k in CV_KEYS)])
    table = tabulate(rows, headers=["pipeline", "messages of", "messages", "intent acc", "intent macro-F1",
                                    "entity P", "entity R", "entity F1"], tablefmt="github")
    text = (f"Machine: {machine()}. Measured by `python -m bot.evaluate_nlu --cv-only --folds {folds}`, one "
            f"run: {folds}-fold cross-validation of the served pipeline over its whole training data "
            "(English and Chinese, with the catalog's generated examples), folds drawn with seed 42; mean "
            "over folds; the rows for one language score that language's messages of each test fold. The "
            "English-only MiniLM pipeline (served before) runs on the same folds with their English "
            "messages only (it trains and is tested on English), so its row and the multilingual model's "
            "English row score the same test messages.\n\n"
            + table + "\n")
    print(text)
    write_section(ROOT / "docs" / "benchmarks.md", "nlu-cv",
                  "NLU: cross-validation of the served pipeline", text)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.evaluate_nlu")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (0: held-out only)")
    parser.add_argument("--cv-only", action="store_true",
                        help="only cross-validation (ours; the English-only one on the English part), "
                             "in a section of its own")
    args = parser.parse_args()
    cache = tempfile.TemporaryDirectory()
    os.environ["RASA_CACHE_DIRECTORY"] = cache.name  # train for real: no cached components
    from rasa.shared.nlu.training_data.loading import load_data

    from chatrec.reports import machine, write_section
    from chatrec.settings import environment

    if args.cv_only:
        cross_validate_ours(args.folds or 5)
        return

    sets = held_out_sets()
    results = {}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        train_file, english_file = training_data(folder), training_data(folder, english_only=True)
        diet_config = folder / "diet.yml"
        diet_config.write_text(DIET)
        bert, facts = train(OURS, train_file, folder / "BERT")
        results[BERT] = evaluate(bert, sets, facts)
        with environment({"CHATREC_BERT_QUANTIZE": "0"}):  # the same trained model, weights as trained
            results[BERT_FP32] = evaluate(bert, sets, facts)
        minilm, facts = train(english_only_config(folder), english_file, folder / "MiniLM")
        results[MINILM] = evaluate(minilm, {"English": sets["English"]}, facts)
        diet, facts = train(diet_config, train_file, folder / "DIET")
        results[DIET_NAME] = evaluate(diet, sets, facts)
        if args.folds:
            training = load_data(str(train_file)).intent_examples
            for pipeline, config in ((BERT, OURS), (DIET_NAME, diet_config)):
                results[pipeline]["cv"] = cross_validate(config, training, args.folds,
                                                         folder / f"cv-{pipeline[:4]}")
    english = sets["English"]
    confusion_png([m.get("intent") for m in english], results[BERT]["English"]["predicted"],
                  ROOT / "docs" / "nlu-confusion.png")
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "nlu-eval.json").write_text(json.dumps(
        {name: {language: _without_parses(r) for language, r in by_language.items()}
         for name, by_language in results.items()}, indent=2))
    scope = f"{args.folds}-fold cross-validation too" if args.folds else "held-out only, `--folds 0`"
    text = (f"Machine: {machine()}. Measured by `python -m bot.evaluate_nlu --folds {args.folds}` "
            f"({scope}), one run; "
            "entity scores on exact (start, end, type); parse latency one message at a time through "
            "`Agent.parse_message`.\n\n" + render(results, {k: len(v) for k, v in sets.items()}, args.folds)
            + "\n\n![confusion matrix](nlu-confusion.png)")
    print(text)
    write_section(ROOT / "docs" / "benchmarks.md", "nlu-eval",
                  "NLU: BERT against DIET (`make eval-nlu`)", text)


if __name__ == "__main__":
    main()
