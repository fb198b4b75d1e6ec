"""``preflab report RUN_DIR | PAIRS``: one self-contained HTML page for a bench run or a pairs file.

No network requests: styles are inline and plots are embedded as base64 PNG, so the page can
be mailed or archived as one file. It holds the results table, the cost table, the plots, and
the pair browser (:mod:`preflab.report.browser`): every pair and failure of each method with
its provenance, filters, search and a side-by-side view.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from preflab.report.tables import (difference_rows, failures_cell, length_cell, length_rows, mix_note, rows, source_rows,
                                    tokens_cell, wall_cell)
from preflab.io.atomic import atomic_path
from preflab.report.browser import PAGE_SIZE, browser_html, file_rows
from preflab.report.results_file import check_shape, rendering

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}tr.null td{color:#777}tr.base td{font-weight:600}
details{border:1px solid #ddd;border-radius:4px;margin:.4rem 0;padding:.3rem .6rem}summary{cursor:pointer}
img{max-width:100%}.muted{color:#777;font-size:.8rem}
"""


def _table(header: list[str], body: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    out = []
    for r in body:
        cls = "null" if r[0].startswith("null:") else "base" if r[0] == "base-only" else ""
        out.append(f'<tr class="{cls}">' + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>")
    return f'<table id="results"><thead><tr>{head}</tr></thead><tbody>{"".join(out)}</tbody></table>'


def _cost_table(methods: dict[str, Any]) -> str:
    body = [[k, str(m["prompts"]), str(m["pairs"]), length_cell(m),
             failures_cell(m), tokens_cell(m), wall_cell(m)]
            for k, m in methods.items()]
    return _table(["method", "prompts", "pairs kept", "chosen longer (median ratio)", "failures", "tokens in / out",
                   "wall time"], body).replace(
        'id="results"', 'id="cost"')


def _length_html(results: dict[str, Any], run_dir: Path) -> str:
    length = length_rows(results)
    if not length:
        return ""
    return ("<h3>Length</h3>" + _table(*length).replace('id="results"', 'id="length"')
            + '<p class="muted">Length-controlled accuracy: the mean of the accuracies where the longer response won and '
              'where it lost [95% interval]; then how often the model prefers the longer response (how often the human '
              'labels do). Lengths in words.</p>'
            + _image(run_dir / "length.png", "accuracy against the length ratio"))


def _difference_html(results: dict[str, Any]) -> str:
    diff = difference_rows(results)
    if not diff:
        return ""
    return ("<h3>Difference from base-only</h3>" + _table(*diff).replace('id="results"', 'id="vs-base"')
            + '<p class="muted">Same evaluation pairs, paired bootstrap 95% interval; * = the interval excludes 0.</p>')


def _bon_html(results: dict[str, Any], run_dir: Path) -> str:
    """The best-of-N section (a bench with ``bon:``): gold score of each row's pick against N, the
    gain over the random pick, the win rate over base-only, and the plot."""
    from preflab.report.bon import gain_rows, gold_rows, gold_text, win_rows

    bon = results.get("bon") or {}
    if "curves" not in bon:
        return ""
    wins = win_rows(bon)
    return ("<h2>Best-of-N: does each row's RM pick better responses?</h2>"
            f'<p class="muted">{bon["prompts"]} prompts, {bon["n"]} policy samples each, {bon["subsets"]} nested seeded '
            f"subsets; gold: {html.escape(gold_text(bon))}. Gold score of the pick: mean over RM seeds ± seed std "
            "[bootstrap 95% interval over prompts].</p>"
            + _table(*gold_rows(bon)).replace('id="results"', 'id="bon"')
            + "<h3>Gain over the random pick</h3>" + _table(*gain_rows(bon)).replace('id="results"', 'id="bon-gain"')
            + '<p class="muted">Same subsets, paired 95% interval; * = the interval excludes 0.</p>'
            + ("<h3>Win rate over base-only</h3>" + _table(*wins).replace('id="results"', 'id="bon-wins"')
               + '<p class="muted">Judged by the gold scorer; paired 95% interval over prompts; * = excludes 0.5.</p>'
               if wins else "")
            + _image(run_dir / "bon.png", "gold score of the pick against N"))


def _mix_html(results: dict[str, Any], run_dir: Path) -> str:
    """The note on capped and base+human rows, and the plot of accuracy against the pairs added."""
    capped = any((c.get("_mix") or {}).get("capped") for c in results["table"].values())
    note = f'<p class="muted">{html.escape(mix_note(results))}</p>' if capped or results.get("human") else ""
    plot = _image(run_dir / "mix.png", "accuracy against the pairs added")
    return note + (f"<h3>Accuracy against the pairs added</h3>{plot}" if plot else "")


def _sources_html(results: dict[str, Any]) -> str:
    sources = source_rows(results)
    if not sources:
        return ""
    return ('<p class="muted">Pairs read from files, not generated by this bench; their cost is their run record\'s:</p>'
            + _table(*sources).replace('id="results"', 'id="sources"'))


def _pair_rows(run_dir: Path, methods: dict[str, Any]) -> list[dict[str, Any]]:
    """Every pair and failure of every method, for the browser (a method without a pairs file
    has no rows)."""
    rows: list[dict[str, Any]] = []
    for key, spec in methods.items():
        path = run_dir / spec["pairs_file"]
        if path.exists():
            rows += file_rows(path, method=key)[0]
    return rows


def _image(path: Path, alt: str = "accuracy by row and evaluation set") -> str:
    if not path.exists():
        return ""
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _read_json(path: Path, fix: str) -> dict[str, Any]:
    """A JSON object from a run folder, or one InputError naming the file and the fix."""
    from preflab.errors import InputError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"not valid JSON ({exc}); {fix}", path=str(path)) from None
    if not isinstance(data, dict):
        raise InputError(f"expected a JSON object; {fix}", path=str(path))
    return check_shape(data, path, fix) if path.name == "results.json" else data


def write_report(run_dir: str | Path, page_size: int = PAGE_SIZE, out: str | Path | None = None) -> Path:
    """Render ``run_dir/report.html`` (or ``out``) from ``results.json`` (and ``run.json``),
    with a browser over every pair and failure of every method."""
    run_dir = Path(run_dir)
    out = Path(out) if out is not None else run_dir / "report.html"
    results_file = run_dir / "results.json"
    if not results_file.exists():
        from preflab.errors import InputError

        raise InputError("no results.json: run `preflab bench CONFIG` into this folder first", path=str(run_dir))
    fix = "rerun `preflab bench CONFIG --out RUN_DIR` to rewrite it (finished steps are reused)"
    results = _read_json(results_file, fix)
    run = _read_json(run_dir / "run.json", "delete it to write the report without provenance, or rerun the bench") \
        if (run_dir / "run.json").exists() else {}
    with rendering(results_file, fix):
        page = _page(results, run, run_dir, page_size)
    with atomic_path(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return out


def _page(results: dict[str, Any], run: dict[str, Any], run_dir: Path, page_size: int) -> str:
    header, body = rows(results)
    gold = results.get("gold_agreement") or {}
    gold_html = "".join(f"<li>{html.escape(k)}: {v['agreement_with_label_all']:.1%} of {v['pairs']} pairs</li>"
                        for k, v in gold.items() if v.get("agreement_with_label_all") is not None)
    versions = ", ".join(f"{k} {v}" for k, v in run.get("versions", {}).items())
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>preflab bench: {html.escape(results['name'])}</title>
<style>{STYLE}</style></head><body>
<h1>preflab bench: {html.escape(results['name'])}</h1>
<p class="muted">generator {html.escape(str(run.get('config', {}).get('llm', '')))} · seed {html.escape(str(run.get('seed', '')))} ·
wall time {results.get('wall_s', 0):.0f} s · steps reused {len(results['steps']['reused'])}, ran {len(results['steps']['ran'])}</p>
<h2>Reward-model accuracy on human preferences</h2>
{_table(header, body)}
<p class="muted">Mean over RM seeds ± seed std, [bootstrap 95% interval over the evaluation pairs]. Rows marked null use no model.</p>
{_difference_html(results)}
{_image(run_dir / 'results.png')}
{_mix_html(results, run_dir)}
{_length_html(results, run_dir)}
{_bon_html(results, run_dir)}
<h2>Cost per method</h2>
{_cost_table(results['methods'])}
{_sources_html(results)}
{f'<h2>Synthetic-label agreement with the gold judge</h2><ul>{gold_html}</ul>' if gold_html else ''}
<h2>Pairs</h2>
<p class="muted">Every pair and every failure of every method; click a row to compare the two responses.</p>
{browser_html(_pair_rows(run_dir, results['methods']), page_size)}
<h2>Provenance</h2><p class="muted">{html.escape(versions)}</p>
<details><summary>config</summary><pre>{html.escape(json.dumps(run.get('config', {}), indent=2))}</pre></details>
</body></html>"""
    return page


def pairs_page(title: str, rows: list[dict[str, Any]], summary: dict[str, Any], page_size: int = PAGE_SIZE) -> str:
    """A whole page browsing one pairs file."""
    counts = summary.get("counts") or {}
    made = f" · written by preflab {summary['step']}" if summary.get("step") else ""
    counts_html = f'<p class="muted">{html.escape(json.dumps(counts, default=str))}</p>' if counts else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>preflab pairs: {html.escape(title)}</title>
<style>{STYLE}</style></head><body>
<h1>preflab pairs: {html.escape(title)}</h1>
<p class="muted">{summary['pairs']} pairs · {summary['failures']} failures · {summary['dropped']} dropped by clean{html.escape(made)}</p>
{counts_html}
{browser_html(rows, page_size)}
</body></html>"""


def write_pairs_report(pairs_path: str | Path, out: str | Path, fmt: str = "auto", page_size: int = PAGE_SIZE) -> Path:
    """Write the browser page of a pairs file (with its failures and clean record) to ``out``."""
    rows, summary = file_rows(pairs_path, fmt)
    out = Path(out)
    with atomic_path(out) as tmp:
        tmp.write_text(pairs_page(Path(pairs_path).name, rows, summary, page_size), encoding="utf-8")
    return out
