"""Issue 15 §3: the pair browser, driven in a real headless Chromium (the ``tab`` fixture,
tests/report/conftest.py): filters, search, a click that opens the side-by-side view, escaping of
hostile user text, 20,000 pairs paged, no network request; and ``preflab report`` on a plain
pairs file (its failures file and a ``preflab clean`` record read beside it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from preflab import io
from preflab.io.containers import write_jsonl
from preflab.provenance import run_record, sidecar, write_run_json
from preflab.records import PreferencePair, PromptRecord, text_prompt
from preflab.report.browser import embed_json, file_rows, pair_row
from preflab.report.html import pairs_page

METHODS = ("rmboost", "rlcd", "rlaif")
N_PAIRS, N_FAILURES = 120, 10


def invoke(*args) -> str:
    from preflab.cli.main import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _pair(i: int) -> PreferencePair:
    method = METHODS[i % 3]
    prov: dict = {"method": method, "seed": 0, "raw": {"first": "raw text that is not shown"}}
    if method == "rmboost":
        prov.update(label="better" if i % 2 else "worse", aspects=["helpfulness", "concision"], template="rmboost_rewrite@1")
    elif method == "rlaif":
        prov.update(votes=["A", "B"] if i % 5 == 0 else ["A", "A"], order_consistent=i % 5 != 0,
                    judge={"model": "judge-model", "template": "judge_pairwise@1"})
    rejected = f"rejected answer {i}" + (" about a zebra" if i == 9 else "")
    return PreferencePair(prompt=text_prompt(f"Question {i}: how do I fix item {i}?"), chosen=f"chosen answer {i}",
                          rejected=rejected, strength_mean=round(-1 + 2 * i / (N_PAIRS - 1), 4),
                          strength_std=0.1, provenance=prov)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A generation output as preflab writes it (pairs, failures with the prompt ids, a run record
    naming the prompt file), then the real ``preflab clean`` of it, and a report of each."""
    root = tmp_path_factory.mktemp("browser")
    prompts = [PromptRecord(prompt=text_prompt(f"Unanswered prompt {k}")) for k in range(N_FAILURES)]
    write_jsonl([{"prompt": p.prompt[0].content} for p in prompts], root / "prompts.jsonl")
    gen = root / "gen.jsonl"
    io.write_pairs([_pair(i) for i in range(N_PAIRS)], gen)
    write_jsonl([{"index": k, "prompt_id": p.id, "reason": "truncated" if k < 6 else "identical", "detail": "",
                  "raw": {"positive": f"cut off {k}"}} for k, p in enumerate(prompts)], Path(f"{gen}.failures.jsonl"))
    write_run_json(sidecar(gen), run_record("generate/mixed", {}, inputs={"prompts": root / "prompts.jsonl"}))
    cleaned = root / "clean.jsonl"
    invoke("clean", gen, cleaned, "--flip-below", "-0.5", "--drop-below", "0.1", "--margin")
    invoke("report", gen)
    invoke("report", cleaned, "--out", root / "clean.html", "--page-size", "25")
    return {"root": root, "gen": gen, "clean": cleaned, "gen_html": root / "gen.jsonl.report.html",
            "clean_html": root / "clean.html"}


def _shown_rows(tab) -> list[list[str]]:
    return tab.js("[...document.querySelectorAll('#pb-rows tr')].map(tr => [...tr.cells].map(td => td.textContent))")


def _only_local_requests(tab) -> None:
    urls = [e["request"]["url"] for e in tab.events("Network.requestWillBeSent")]
    assert urls and all(u.startswith("file://") for u in urls), urls
    assert tab.events("Runtime.exceptionThrown") == []


def test_filters_search_and_side_by_side_view(files, tab):
    tab.open(files["gen_html"])
    total = N_PAIRS + N_FAILURES
    assert tab.js("document.getElementById('pb-count').textContent") == f"{total} of {total} rows"
    assert len(_shown_rows(tab)) == 50 and tab.js("document.getElementById('pb-page').textContent") == "page 1 of 3"
    tab.click("#pb-next")
    assert tab.js("document.getElementById('pb-page').textContent") == "page 2 of 3"
    assert _shown_rows(tab)[0][0] == "51"

    tab.choose("#pb-method", "rlaif")
    rows = _shown_rows(tab)
    assert len(rows) == N_PAIRS // 3 and {r[1] for r in rows} == {"rlaif"}
    assert sum("flagged" in r[5] for r in rows) == len([i for i in range(2, N_PAIRS, 3) if i % 5 == 0])

    tab.choose("#pb-method", "")
    tab.choose("#pb-label", "worse")
    assert {(r[1], r[2]) for r in _shown_rows(tab)} == {("rmboost", "worse")}
    tab.choose("#pb-label", "")

    tab.choose("#pb-reason", "truncated")
    rows = _shown_rows(tab)
    assert len(rows) == 6 and {r[5] for r in rows} == {"failure: truncated"}
    tab.click("#pb-rows tr")
    body = tab.js("document.getElementById('pb-detail-body').innerText")
    assert "failure: truncated" in body and "Unanswered prompt 0" in body and "cut off 0" in body
    tab.click("#pb-close")
    assert tab.js("document.getElementById('pb-detail').hidden") is True
    tab.choose("#pb-reason", "")

    tab.js("document.getElementById('pb-lo').value = '0.5'; document.getElementById('pb-hi').value = '0.75'")
    tab.choose("#pb-hi", "0.75")
    mus = [float(r[3]) for r in _shown_rows(tab)]
    assert mus and all(0.5 <= m <= 0.75 for m in mus)
    assert len(mus) == sum(0.5 <= _pair(i).strength_mean <= 0.75 for i in range(N_PAIRS))
    tab.js("document.getElementById('pb-lo').value = ''")
    tab.choose("#pb-hi", "")

    tab.type("#pb-q", "ZEBRA")  # from the keyboard; case-insensitive, over the responses too
    tab.wait_for("document.querySelectorAll('#pb-rows tr').length === 1")
    tab.click("#pb-rows tr")
    assert tab.js("document.getElementById('pb-detail').hidden") is False
    shown = tab.js("""(() => { const d = document.getElementById('pb-detail-body');
        return {prompt: d.querySelector('.prompt').textContent, chosen: d.querySelector('.chosen').textContent,
                rejected: d.querySelector('.rejected').textContent, text: d.innerText}; })()""")
    assert shown["prompt"] == "Question 9: how do I fix item 9?"
    assert (shown["chosen"], shown["rejected"]) == ("chosen answer 9", "rejected answer 9 about a zebra")
    assert "rmboost_rewrite@1" in shown["text"] and '["helpfulness","concision"]' in shown["text"]
    assert "better" in shown["text"] and "raw text that is not shown" not in shown["text"]
    _only_local_requests(tab)


def test_cleaned_file_shows_flipped_repaired_and_dropped_pairs(files, tab):
    counts = json.loads(sidecar(files["clean"]).read_text())["counts"]
    assert counts["flipped"] > 0 and counts["dropped"] > 0
    tab.open(files["clean_html"])
    total = N_PAIRS  # the kept pairs and the dropped ones; clean's output has no failures file
    assert tab.js("document.getElementById('pb-count').textContent") == f"{total} of {total} rows"
    for state, expected in (("flipped", counts["flipped"]), ("dropped", counts["dropped"]),
                            ("margin", counts["with_margin"]), ("repaired", counts["pairs_out"])):
        tab.choose("#pb-state", state)
        assert tab.js("document.getElementById('pb-count').textContent") == f"{expected} of {total} rows", state
    tab.choose("#pb-state", "flipped")
    tab.click("#pb-rows tr")
    text = tab.js("document.getElementById('pb-detail-body').innerText")
    assert "flipped" in text and '"flip": true' in text
    _only_local_requests(tab)


PAYLOADS = ["<script>window.__pwned = 'script'; document.title = 'pwned'</script>",
            "<img src=x onerror=\"window.__pwned = 'img'; document.title = 'pwned'\">",
            "</script><script>window.__pwned = 'breakout'</script><!--",
            "<svg onload=\"window.__pwned = 'svg'\"></svg>", "a\u2028b\u2029c & d",
            "<img src=\"https://example.invalid/x.png\">"]


def test_user_text_never_executes(tmp_path, tab):
    pairs = [PreferencePair(prompt=text_prompt(f"{p} prompt"), chosen=f"{p} chosen", rejected=f"plain {k}",
                            provenance={"method": p, "label": p, "aspects": [p], "template": p})
             for k, p in enumerate(PAYLOADS)]
    rows = [pair_row(p) for p in pairs] + [{**pair_row(pairs[0]), "k": "failure", "f": PAYLOADS[1]}]
    page = tmp_path / "hostile.html"
    page.write_text(pairs_page(PAYLOADS[2], rows, {"pairs": 6, "failures": 1, "dropped": 0}), encoding="utf-8")
    tab.open(page)
    title = tab.js("document.title")
    assert tab.js("document.getElementById('pb-count').textContent") == "7 of 7 rows"
    for k in range(len(rows)):
        tab.choose("#pb-method", rows[k]["m"])
        tab.click("#pb-rows tr")
        body = tab.js("document.getElementById('pb-detail-body').innerText")
        assert rows[k]["p"] in body  # shown as text, verbatim
        tab.click("#pb-close")
    tab.choose("#pb-method", "")
    tab.type("#pb-q", "onerror")
    tab.wait_for("document.querySelectorAll('#pb-rows tr').length === 1")
    assert tab.js("typeof window.__pwned") == "undefined"
    assert tab.js("document.title") == title == f"preflab pairs: {PAYLOADS[2]}"
    assert tab.js("document.querySelectorAll('#pb img, #pb svg, #pb script').length") == 0
    _only_local_requests(tab)


def test_twenty_thousand_pairs_keep_one_page_in_the_dom(tmp_path, tab):
    # rows as file_rows makes them, varied per pair (cheap: reading 20,000 pairs is tested by size elsewhere)
    base = pair_row(PreferencePair(prompt=text_prompt("p"), chosen="yes", rejected="no", provenance={"method": "rlcd"}))
    rows = [{**base, "id": f"{i:016x}", "m": "rlcd" if i % 2 else "rmboost", "p": f"prompt number {i}",
             "c": f"yes {i}", "r": f"no {i}", "mu": i / 20_000} for i in range(20_000)]
    page = tmp_path / "big.html"
    page.write_text(pairs_page("big", rows, {"pairs": 20_000, "failures": 0, "dropped": 0}), encoding="utf-8")
    tab.open(page)
    assert tab.js("document.getElementById('pb-count').textContent") == "20000 of 20000 rows"
    assert tab.js("document.querySelectorAll('#pb-rows tr').length") == 50
    assert tab.js("document.getElementById('pb-page').textContent") == "page 1 of 400"
    tab.choose("#pb-method", "rlcd")
    assert tab.js("document.getElementById('pb-count').textContent") == "10000 of 20000 rows"
    tab.type("#pb-q", "prompt number 19999")
    tab.wait_for("document.getElementById('pb-count').textContent === '1 of 20000 rows'")
    assert tab.js("document.querySelector('#pb-rows td:last-child').textContent") == "prompt number 19999"
    assert tab.js("document.querySelectorAll('tr').length") < 200  # the whole page, results tables included


# -- without a browser -------------------------------------------------------------------------------


def test_clean_record_marks_states_and_lists_dropped_pairs(files):
    rows, summary = file_rows(files["clean"])
    counts = json.loads(sidecar(files["clean"]).read_text())["counts"]
    states = [r["s"] for r in rows]
    assert sum("flipped" in s for s in states) == counts["flipped"]
    assert sum("dropped" in s for s in states) == counts["dropped"] == summary["dropped"]
    assert summary["pairs"] == counts["pairs_out"] and summary["step"] == "clean"
    # the margin is new (clean set it); a flag from generation stays
    assert all("margin" in s for r, s in zip(rows, states) if "dropped" not in s)
    assert any("flagged" in s for s in states)


def test_dropped_pairs_come_only_from_the_file_clean_read(files, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(files["root"], root)
    gen, cleaned = root / "gen.jsonl", root / "clean.jsonl"
    record = json.loads(sidecar(cleaned).read_text())
    record["inputs"]["pairs"]["path"] = str(gen)
    sidecar(cleaned).write_text(json.dumps(record))
    assert file_rows(cleaned)[1]["dropped"] > 0
    io.write_pairs([_pair(i) for i in range(3)], gen)  # the input changed since: its pairs are not clean's
    rows, summary = file_rows(cleaned)
    assert summary["dropped"] == 0 and len(rows) == summary["pairs"]


def test_failures_keep_their_reason_and_prompt(files):
    rows, summary = file_rows(files["gen"])
    failures = [r for r in rows if r["k"] == "failure"]
    assert summary == {**summary, "pairs": N_PAIRS, "failures": N_FAILURES, "dropped": 0, "step": "generate/mixed"}
    assert [r["f"] for r in failures] == ["truncated"] * 6 + ["identical"] * 4
    assert failures[0]["p"] == "Unanswered prompt 0" and failures[0]["m"] == "mixed"
    assert not any(r["s"] for r in rows if r["m"] == "rlcd")  # nothing to say about a plain pair


@pytest.mark.parametrize("text", PAYLOADS + ["\u2028</SCRIPT >", "<!-- <script>"])
def test_embedded_json_cannot_close_its_element_and_reads_back_unchanged(text):
    embedded = embed_json({"t": text})
    assert not re.search(r"[<>&\u2028\u2029]", embedded)
    assert json.loads(embedded) == {"t": text}


def test_embedded_json_has_no_nan_for_the_page_to_choke_on():
    pair = PreferencePair(prompt=text_prompt("q"), chosen="a", rejected="b")  # records refuse NaN; values made later may not
    row = pair_row(pair.model_copy(update={"strength_mean": float("nan"),
                                           "provenance": {"scores": [float("inf"), 1.5], "p_first": float("nan")}}))
    assert json.loads(embed_json([row]))[0]["v"] == {"scores": [None, 1.5], "p_first": None}
    assert json.loads(embed_json([row]))[0]["mu"] is None


def test_page_references_no_network_resource(files):
    page = files["gen_html"].read_text(encoding="utf-8")
    outside_data = page.split('id="pb-data">')[0] + page.split("</script>", 1)[1]
    assert not re.search(r"https?:|<(link|iframe|img)\b|@import|url\(|src=", outside_data)


def test_report_of_a_pairs_file_needs_an_html_name_and_protects_its_inputs(files, tmp_path):
    from preflab.cli.main import app
    from preflab.errors import ConfigError

    for out, message in ((tmp_path / "page.txt", "name it .html"), (files["gen"], "is also an input"),
                         (Path(f"{files['gen']}.failures.jsonl"), "is also an input")):
        result = CliRunner().invoke(app, ["report", str(files["gen"]), "--out", str(out)])
        assert isinstance(result.exception, ConfigError) and message in str(result.exception), (out, result.exception)
        assert result.exception.exit_code == 2
    assert not (tmp_path / "page.txt").exists()
    result = CliRunner().invoke(app, ["report", str(tmp_path / "missing.jsonl")])
    assert "no such file or folder" in str(result.exception) and result.exception.exit_code == 1
