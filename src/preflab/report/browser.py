"""The pair browser: every pair and every failure of a run, with provenance, in one HTML page.

The rows are plain dictionaries built here from pairs, the failures file beside them and, when
the file was written by ``preflab clean``, the pairs it read (so dropped pairs are listed too
and a changed margin, smoothing or weight is told apart from one the input already had). The
page embeds them once as JSON in a ``<script type="application/json">`` block, escaped so that
no user text can close it, and a small inline script filters, searches and pages through them,
building every element with ``textContent`` (user text is never parsed as HTML). The DOM holds
one page of rows at a time, so 20,000 pairs stay responsive; nothing is fetched from the network.

>>> from preflab.records import PreferencePair, text_prompt
>>> pair = PreferencePair(prompt=text_prompt("q</script>"), chosen="a", rejected="b",
...                       provenance={"method": "rlcd", "raw": {"positive": "a"}})
>>> row = pair_row(pair, "rlcd")
>>> row["m"], row["p"], "raw" in row["v"]
('rlcd', 'q</script>', False)
>>> "</script>" in embed_json([row])
False
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Iterable

from preflab.io.portable import finite_or_none
from preflab.records import PreferencePair

#: Rows per page unless the caller asks otherwise.
PAGE_SIZE = 50

#: What ``preflab clean`` can do to a pair it keeps (the browser's "repaired" filter); besides
#: these a row can be ``dropped`` (by clean) or ``flagged`` (kept although a check failed).
REPAIRS = ("flipped", "smoothed", "margin", "reweighted")


def prompt_text(messages: Iterable[Any]) -> str:
    """A prompt as one string: its text, or ``[role] text`` turns for a conversation."""
    messages = list(messages)
    return "\n\n".join(f"[{m.role}] {m.content}" if len(messages) > 1 else m.content for m in messages)


def _flagged(prov: dict[str, Any]) -> bool:
    """Kept although a check failed: an order-inconsistent judge, a truncated response."""
    truncated = prov.get("truncated")
    return (prov.get("order_consistent") is False or bool(prov.get("base_truncated"))
            or (any(truncated) if isinstance(truncated, list) else bool(truncated)))


def _states(pair: PreferencePair, before: PreferencePair | None, cleaned: bool) -> list[str]:
    states = ["flagged"] if _flagged(pair.provenance) else []
    if pair.flipped or (pair.provenance.get("clean") or {}).get("flip"):
        states.append("flipped")
    if cleaned:  # a column counts as a repair only when clean set or changed it
        for state, column in (("smoothed", "smoothing"), ("margin", "margin"), ("reweighted", "weight")):
            value = getattr(pair, column)
            if value is not None and (before is None or getattr(before, column) != value):
                states.append(state)
    return states


def pair_row(pair: PreferencePair, method: str | None = None, *, states: list[str] | None = None) -> dict[str, Any]:
    """One browser row: what the table and the side-by-side view show. The provenance's ``raw``
    model outputs are left out (they repeat the two responses)."""
    prov = pair.provenance
    shown = {k: v for k, v in prov.items() if k != "raw"}
    for column in ("chosen_score", "rejected_score", "margin", "smoothing", "weight", "category"):
        if getattr(pair, column) is not None:
            shown[column] = getattr(pair, column)
    label = prov.get("label") or prov.get("mode") or ""
    name = method or str(prov.get("method") or prov.get("source") or "—")
    return {"k": "pair", "id": pair.id, "m": name, "l": str(label), "p": prompt_text(pair.prompt),
            "c": pair.chosen, "r": pair.rejected, "mu": pair.strength_mean, "sd": pair.strength_std, "f": "",
            "s": states if states is not None else _states(pair, None, False), "v": shown}


def failure_row(failure: dict[str, Any], method: str, prompts: dict[str, str]) -> dict[str, Any]:
    """One browser row for an entry of a failures file (``reason``, ``detail``, ``raw``)."""
    prompt_id = str(failure.get("prompt_id", ""))
    shown = {k: v for k, v in failure.items() if k not in ("reason",)}
    return {"k": "failure", "id": prompt_id, "m": method, "l": "", "p": prompts.get(prompt_id, ""),
            "c": "", "r": "", "mu": None, "sd": None, "f": str(failure.get("reason") or "unknown"),
            "s": [], "v": shown}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def _read_failures(path: Path) -> list[dict[str, Any]]:
    """The entries of a failures file (one JSON object a line); a line that is not one is
    an InputError naming the file and line."""
    from preflab.errors import InputError

    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"not a JSON line ({exc.msg}); delete the failures file or rerun the generation",
                             path=str(path), line=number) from None
        if not isinstance(entry, dict):
            raise InputError("not a failure record (a JSON object with a reason)", path=str(path), line=number)
        entries.append(entry)
    return entries


def companions(pairs_path: str | Path) -> dict[str, Path]:
    """Files that tell more about a pairs file, where they exist: its failures file, its run
    record, and the inputs that record names (the prompts of a generation, the pairs a
    ``preflab clean`` read) while they still hold what was read (same fingerprint). These are
    inputs of the report too."""
    from preflab.provenance import file_fingerprint, sidecar

    path = Path(pairs_path)
    found = {"failures": path.with_name(path.name + ".failures.jsonl"), "run": sidecar(path)}
    record = _read_json(found["run"]) if found["run"].is_file() else None
    if isinstance(record, dict):
        for name, entry in (record.get("inputs") or {}).items():
            if name in ("prompts", "pairs") and isinstance(entry, dict) and entry.get("path"):
                source = Path(entry["path"])
                if source.exists() and file_fingerprint(source) == entry.get("fingerprint"):
                    found[name] = source
    return {k: v for k, v in found.items() if v.exists()}


def file_rows(pairs_path: str | Path, fmt: str = "auto", method: str | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The browser rows of a pairs file and its companions, and a summary of what was read.
    ``method`` names the rows (a bench method's label); by default each pair's provenance does."""
    from preflab import io

    more = companions(pairs_path)
    record = _read_json(more["run"]) if "run" in more else None
    record = record if isinstance(record, dict) else {}
    cleaned = str(record.get("step", "")) == "clean"
    before = {p.id: p for p in io.read_pairs(more["pairs"])} if cleaned and "pairs" in more else {}
    rows: list[dict[str, Any]] = []
    seen = set()
    for pair in io.read_pairs(pairs_path, fmt):
        seen.add(pair.id)
        rows.append(pair_row(pair, method, states=_states(pair, before.get(pair.id), cleaned)))
    dropped = [pair_row(p, method, states=["dropped", *_states(p, None, False)]) for pid, p in before.items()
               if pid not in seen]
    prompts: dict[str, str] = {}
    failures = _read_failures(more["failures"]) if "failures" in more else []
    if failures and "prompts" in more:
        prompts = {r.id: prompt_text(r.prompt) for r in io.read_prompts(more["prompts"], strict=False)}
    method_name = method or str(record.get("step", "")).removeprefix("generate/") or "—"
    summary = {"pairs": len(rows), "failures": len(failures), "dropped": len(dropped),
               "step": record.get("step"), "counts": record.get("counts") or {}}
    return rows + dropped + [failure_row(f, method_name, prompts) for f in failures], summary


def embed_json(data: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: ``<``, ``>``, ``&`` and the two
    JavaScript line separators are written as ``\\u`` escapes, so user text cannot end the
    element or open a comment; ``JSON.parse`` reads it back unchanged. A NaN or infinite number
    (a strength, a score) is null: ``JSON.parse`` would refuse the whole page."""
    text = json.dumps(finite_or_none(data), ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


STYLE = """
#pb{font-size:.85rem}#pb .bar{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin:.5rem 0}
#pb label{display:flex;flex-direction:column;font-size:.75rem;color:#555}#pb input,#pb select{font:inherit;padding:.2rem}
#pb input[type=number]{width:6rem}#pb input[type=search]{width:16rem}
#pb table{border-collapse:collapse;width:100%;table-layout:fixed}#pb th,#pb td{border:1px solid #ddd;padding:.25rem .4rem;
text-align:left;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}#pb tbody tr{cursor:pointer}
#pb tbody tr:hover{background:#f3f6fb}#pb tr.failure td{color:#8a4b00}#pb .pager{display:flex;gap:.5rem;align-items:center;margin:.4rem 0}
#pb-detail{position:fixed;inset:2rem;background:#fff;border:1px solid #888;border-radius:6px;box-shadow:0 4px 24px #0004;
padding:1rem;overflow:auto;z-index:10}#pb-detail[hidden]{display:none}#pb-detail .cols{display:grid;grid-template-columns:1fr 1fr;gap:.6rem}
#pb-detail .text{white-space:pre-wrap;padding:.5rem;border-radius:4px;font-size:.85rem}#pb-detail .prompt{background:#f4f4f4}
#pb-detail .chosen{background:#eaf6ea}#pb-detail .rejected{background:#fbeaea}#pb-detail dl{display:grid;
grid-template-columns:max-content 1fr;gap:.15rem .8rem;font-size:.8rem}#pb-detail dt{color:#555}#pb-detail dd{margin:0;
white-space:pre-wrap;word-break:break-word}#pb-detail pre{white-space:pre-wrap;word-break:break-word;font-size:.75rem;background:#f8f8f8;padding:.4rem}
"""

SCRIPT = r"""
(function () {
  "use strict";
  var rows = JSON.parse(document.getElementById("pb-data").textContent);
  var pageSize = Number(document.getElementById("pb").getAttribute("data-page-size")) || 50;
  var $ = function (id) { return document.getElementById(id); };
  var hay = [], matches = [], page = 0;
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function num(x) { return x === null || x === undefined ? "" : Number(x).toFixed(3); }
  function options(id, values) {
    var select = $(id);
    values.forEach(function (v) { var o = el("option", v[1]); o.value = v[0]; select.appendChild(o); });
  }
  function distinct(key) {
    var seen = {};
    rows.forEach(function (r) { if (r[key] !== "") seen[r[key]] = (seen[r[key]] || 0) + 1; });
    return Object.keys(seen).sort().map(function (k) { return [k, k + " (" + seen[k] + ")"]; });
  }
  function indexRows(count) {  // the lower-case search text of the next rows; true while some are left
    for (var end = Math.min(rows.length, hay.length + count); hay.length < end;) {
      var r = rows[hay.length];
      hay.push((r.p + "\n" + r.c + "\n" + r.r + "\n" + (r.k === "failure" ? JSON.stringify(r.v) : "")).toLowerCase());
    }
    return hay.length < rows.length;
  }
  function indexInBackground() { if (indexRows(500)) setTimeout(indexInBackground, 0); }
  function haystack() { indexRows(rows.length); return hay; }
  function bound(id) { var v = $(id).value; return v === "" ? null : Number(v); }
  function keep(r, i, f) {
    if (f.method && r.m !== f.method) return false;
    if (f.label && r.l !== f.label) return false;
    if (f.reason === "(pairs)" && r.k !== "pair") return false;
    if (f.reason === "(failures)" && r.k !== "failure") return false;
    if (f.reason && f.reason[0] !== "(" && r.f !== f.reason) return false;
    if (f.state === "repaired" && !r.s.some(function (s) { return REPAIRS.indexOf(s) >= 0; })) return false;
    if (f.state === "untouched" && (r.k !== "pair" || r.s.length)) return false;
    if (f.state && f.state !== "repaired" && f.state !== "untouched" && r.s.indexOf(f.state) < 0) return false;
    if ((f.lo !== null || f.hi !== null) && r.mu === null) return false;
    if (f.lo !== null && r.mu < f.lo) return false;
    if (f.hi !== null && r.mu > f.hi) return false;
    if (f.q && f.hay[i].indexOf(f.q) < 0) return false;
    return true;
  }
  function apply() {
    var q = $("pb-q").value.trim().toLowerCase();
    var f = {method: $("pb-method").value, label: $("pb-label").value, reason: $("pb-reason").value,
             state: $("pb-state").value, lo: bound("pb-lo"), hi: bound("pb-hi"), q: q, hay: q ? haystack() : null};
    matches = [];
    for (var i = 0; i < rows.length; i++) if (keep(rows[i], i, f)) matches.push(i);
    page = 0;
    render();
  }
  function render() {
    var body = $("pb-rows"), pages = Math.max(1, Math.ceil(matches.length / pageSize));
    page = Math.min(Math.max(page, 0), pages - 1);
    body.replaceChildren();
    matches.slice(page * pageSize, (page + 1) * pageSize).forEach(function (i) {
      var r = rows[i], tr = el("tr", null, r.k);
      tr.setAttribute("data-index", String(i));
      [i + 1, r.m, r.l, num(r.mu), num(r.sd), r.k === "failure" ? "failure: " + r.f : r.s.join(", "),
       r.p.slice(0, 200)].forEach(function (c) { tr.appendChild(el("td", c)); });
      tr.tabIndex = 0;
      tr.addEventListener("click", function () { show(i); });
      tr.addEventListener("keydown", function (e) { if (e.key === "Enter") show(i); });
      body.appendChild(tr);
    });
    $("pb-count").textContent = matches.length + " of " + rows.length + " rows";
    $("pb-page").textContent = "page " + (page + 1) + " of " + pages;
    $("pb-prev").disabled = page === 0;
    $("pb-next").disabled = page >= pages - 1;
  }
  function section(parent, title, text, cls) {
    var box = el("div");
    box.appendChild(el("h4", title));
    box.appendChild(el("div", text, "text " + cls));
    parent.appendChild(box);
  }
  function show(i) {
    var r = rows[i], d = $("pb-detail-body");
    d.replaceChildren();
    d.setAttribute("data-index", String(i));
    d.appendChild(el("h3", (r.k === "failure" ? "failure: " + r.f : "pair") + " · " + r.m + " · " + r.id));
    section(d, "prompt", r.p || "(prompt text not available)", "prompt");
    if (r.k === "pair") {
      var cols = el("div", null, "cols");
      section(cols, "chosen", r.c, "chosen");
      section(cols, "rejected", r.r, "rejected");
      d.appendChild(cols);
    }
    var dl = el("dl"), v = r.v || {};
    [["method", r.m], ["label", r.l || v.label], ["aspects", v.aspects], ["strength μ / σ", r.mu === null ? null : num(r.mu) + " / " + num(r.sd)],
     ["scores", v.scores !== undefined ? v.scores : (v.chosen_score !== undefined ? [v.chosen_score, v.rejected_score] : undefined)],
     ["judge verdicts", v.votes], ["order consistent", v.order_consistent],
     ["template", v.template || (v.judge && v.judge.template)], ["state", r.s.join(", ")],
     ["failure", r.f ? r.f + (v.detail ? " (" + v.detail + ")" : "") : ""]
    ].forEach(function (kv) {
      if (kv[1] === undefined || kv[1] === null || kv[1] === "") return;
      dl.appendChild(el("dt", kv[0]));
      dl.appendChild(el("dd", typeof kv[1] === "object" ? JSON.stringify(kv[1]) : kv[1]));
    });
    d.appendChild(dl);
    d.appendChild(el("h4", "provenance"));
    d.appendChild(el("pre", JSON.stringify(v, null, 1)));
    $("pb-detail").hidden = false;
  }
  var REPAIRS = JSON.parse($("pb").getAttribute("data-repairs"));
  options("pb-method", distinct("m"));
  options("pb-label", distinct("l"));
  options("pb-reason", [["(pairs)", "no failure (pairs)"], ["(failures)", "any failure"]].concat(distinct("f")));
  var timer = null;
  ["pb-method", "pb-label", "pb-reason", "pb-state", "pb-lo", "pb-hi"].forEach(function (id) {
    $(id).addEventListener("change", apply);
  });
  $("pb-q").addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 150); });
  $("pb-prev").addEventListener("click", function () { page--; render(); });
  $("pb-next").addEventListener("click", function () { page++; render(); });
  $("pb-close").addEventListener("click", function () { $("pb-detail").hidden = true; });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") $("pb-detail").hidden = true; });
  apply();
  setTimeout(indexInBackground, 0);  // in small slices, so the first search need not build it
})();
"""


def browser_html(rows: list[dict[str, Any]], page_size: int = PAGE_SIZE) -> str:
    """The browser as an HTML fragment (style, controls, data, script) for any page."""
    states = [("", "any"), ("flagged", "flagged"), ("repaired", "repaired (any repair)"),
              *((s, s) for s in (*REPAIRS, "dropped")), ("untouched", "untouched pairs")]
    state_options = "".join(f'<option value="{v}">{html.escape(t)}</option>' for v, t in states)
    return f"""<style>{STYLE}</style>
<div id="pb" data-page-size="{int(page_size)}" data-repairs="{html.escape(json.dumps(list(REPAIRS)))}">
<div class="bar">
<label>method<select id="pb-method"><option value="">any</option></select></label>
<label>label<select id="pb-label"><option value="">any</option></select></label>
<label>failure<select id="pb-reason"><option value="">pairs and failures</option></select></label>
<label>state<select id="pb-state">{state_options}</select></label>
<label>μ from<input id="pb-lo" type="number" step="any"></label>
<label>μ to<input id="pb-hi" type="number" step="any"></label>
<label>search prompt and responses<input id="pb-q" type="search" placeholder="text"></label>
</div>
<div class="pager"><button id="pb-prev" type="button">previous</button><span id="pb-page"></span>
<button id="pb-next" type="button">next</button><span id="pb-count" class="muted"></span></div>
<table><colgroup><col style="width:4rem"><col style="width:8rem"><col style="width:6rem"><col style="width:4.5rem">
<col style="width:4.5rem"><col style="width:10rem"><col></colgroup>
<thead><tr><th>#</th><th>method</th><th>label</th><th>μ</th><th>σ</th><th>state</th><th>prompt</th></tr></thead>
<tbody id="pb-rows"></tbody></table>
<div id="pb-detail" hidden><button id="pb-close" type="button">close (Esc)</button><div id="pb-detail-body"></div></div>
</div>
<script type="application/json" id="pb-data">{embed_json(rows)}</script>
<script>{SCRIPT}</script>"""
