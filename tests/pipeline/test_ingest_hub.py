"""Which file `ingest hf` takes from the hub's listing, and what a failed download says. The hub client
(huggingface_hub, a third-party network client) is replaced by a stand-in that lists files; nothing is downloaded."""

from __future__ import annotations

import huggingface_hub
import pytest

from analysis.pipeline import ingest as ingest_mod
from analysis.pipeline.ingest import IngestError, download_from_hub

LISTING = ["README.md", "data/community_alignment_filtered.csv", "data/community_alignment_full.csv", "x.json"]


@pytest.fixture
def hub(monkeypatch, tmp_path):
    """A hub that lists LISTING and 'downloads' by returning a path named after the file (or raises ``fail``)."""
    state = {"fail": None, "asked": []}

    class Api:
        def list_repo_files(self, repo, repo_type=None):
            return list(state.get("listing", LISTING))

    def download(repo, filename, repo_type=None, cache_dir=None):
        state["asked"].append(filename)
        if state["fail"]:
            raise state["fail"]
        return str(tmp_path / filename.replace("/", "_"))

    monkeypatch.setattr(huggingface_hub, "HfApi", Api)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    return state


@pytest.mark.parametrize("split", ["full", "filtered"])
def test_the_split_named_is_the_file_taken(hub, split):
    path = download_from_hub(split)
    assert hub["asked"] == [f"data/community_alignment_{split}.csv"] and path.name.endswith(f"_{split}.csv")


def test_a_listing_without_the_split_falls_back_to_any_data_file(hub):
    hub["listing"] = ["README.md", "data/train.parquet", "data/train.csv"]
    download_from_hub("full")
    assert hub["asked"] == ["data/train.csv"]  # a CSV before a Parquet file


def test_a_listing_without_data_files_is_explained(hub):
    hub["listing"] = ["README.md"]
    with pytest.raises(IngestError, match="lists no CSV or Parquet file"):
        download_from_hub("full")


def test_a_failed_download_names_the_error_and_the_manual_route(hub):
    hub["fail"] = OSError("connection reset")
    with pytest.raises(IngestError) as failed:
        download_from_hub("full")
    message = str(failed.value)
    assert "(OSError: connection reset)" in message and "python -m analysis ingest" in message
    assert failed.value.code == 3
    assert ingest_mod.HF_REPO in message


def test_the_meta_table_says_whether_the_data_is_synthetic(tmp_path, capsys):
    import duckdb

    from analysis.pipeline.ingest import ingest
    from tests.pipeline.test_ingest import make_row, write_csv

    src = write_csv(tmp_path / "x.csv", [make_row("c1")])
    for synthetic, want in ((False, "false"), (True, "true")):
        db = tmp_path / f"{want}.duckdb"
        ingest(src, db, synthetic=synthetic)
        con = duckdb.connect(str(db), read_only=True)
        try:
            assert con.execute("SELECT value FROM meta WHERE key = 'synthetic'").fetchall() == [(want,)]
        finally:
            con.close()
    assert capsys.readouterr().err == ""  # no progress bar unless asked for
