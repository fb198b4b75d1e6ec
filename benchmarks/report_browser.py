"""The pair browser with 20,000 real-sized pairs in headless Chromium (issue 15 §3).

The pairs are HH-RLHF harmless-base test pairs (the 2,312 real dialogues less those with an
empty response), repeated with a tag in each prompt until there are ``--pairs`` of them, spread
over four method names with a μ each, so the page carries real text lengths. Measured:

- ``preflab report PAIRS.jsonl`` (read the file, build the rows, write the page): wall time and
  page size;
- in Chromium (the system one, driven over the DevTools pipe by ``tests/report/cdp_driver.py``):
  load (navigate to the load event: parse, ``JSON.parse`` of the data, first render), then
  inside the page with ``performance.now()``: a search right after the load (it finishes the
  lower-case search index the page builds in the background), a filter change (method), a
  later search, clearing both, a page step, opening a pair; and the number of table rows in
  the DOM. Medians over ``--rounds`` fresh tabs.

    python benchmarks/report_browser.py                 # 20,000 pairs, 3 rounds
    python benchmarks/report_browser.py --pairs 2000 --rounds 1   # smoke
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("PREFLAB_SHARED_DATA", HERE.parent.parent / "shared" / "data"))  # set it from a worktree
sys.path.insert(0, str(HERE.parent / "tests" / "report"))

IN_PAGE = {  # JavaScript run in the page, in this order; each returns the milliseconds it took
    "search_at_load_ms": "const q = document.getElementById('pb-q'); q.value = 'knife';"
                         "document.getElementById('pb-method').dispatchEvent(new Event('change'));",
    "filter_method_ms": "const s = document.getElementById('pb-method'); s.value = 'rlcd';"
                        "s.dispatchEvent(new Event('change'));",
    "later_search_ms": "const q = document.getElementById('pb-q'); q.value = 'lock';"
                       "document.getElementById('pb-method').dispatchEvent(new Event('change'));",
    "clear_all_ms": "document.getElementById('pb-q').value = ''; const s = document.getElementById('pb-method');"
                    "s.value = ''; s.dispatchEvent(new Event('change'));",
    "next_page_ms": "document.getElementById('pb-next').click();",
    "open_pair_ms": "document.querySelector('#pb-rows tr').click();",
}


def make_pairs(n: int):
    from preflab import io
    from preflab.records import PreferencePair, Message

    real = [p for p in io.read_pairs(DATA / "hh_rlhf_harmless_base_test.jsonl.gz", "hh-rlhf")
            if p.chosen.strip() and p.rejected.strip()]
    methods = ("rmboost", "rlcd", "west-of-n", "rlaif")
    out = []
    for i in range(n):
        p = real[i % len(real)]
        prompt = [*p.prompt[:-1], Message(role="user", content=f"{p.prompt[-1].content} [copy {i // len(real)}]")]
        out.append(PreferencePair(prompt=prompt, chosen=p.chosen, rejected=p.rejected, strength_mean=(i % 200 - 100) / 50,
                                  strength_std=0.2, provenance={"method": methods[i % 4], "source": "hh-rlhf"}))
    return out


def measure(page: Path, rounds: int, pairs: int) -> dict:
    from cdp_driver import Chromium, Tab

    runs: dict[str, list[float]] = {}
    dom_rows, shown = set(), set()
    with tempfile.TemporaryDirectory() as profile:
        browser = Chromium(Path(profile))
        browser.send("Browser.getVersion", timeout=60)
        version = browser.send("Browser.getVersion")["product"]
        for _ in range(rounds):
            tab = Tab(browser)
            started = time.perf_counter()
            tab.open(page)
            runs.setdefault("load_ms", []).append((time.perf_counter() - started) * 1000)
            assert tab.js("document.getElementById('pb-count').textContent") == f"{pairs} of {pairs} rows"
            dom_rows.add(tab.js("document.querySelectorAll('#pb-rows tr').length"))
            for name, code in IN_PAGE.items():
                ms = tab.js(f"(() => {{ const t = performance.now(); {code} return performance.now() - t; }})()")
                runs.setdefault(name, []).append(ms)
                shown.add((name, tab.js("document.getElementById('pb-count').textContent")))
            assert tab.js("document.getElementById('pb-detail').hidden") is False
            tab.close()
        browser.close()
    return {"chromium": version, "medians_ms": {k: round(statistics.median(v), 1) for k, v in runs.items()},
            "runs_ms": {k: [round(x, 1) for x in v] for k, v in runs.items()}, "table_rows_in_dom": sorted(dom_rows),
            "counts_shown": dict(sorted(shown))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "report_browser.json")
    args = ap.parse_args()

    from preflab import io
    from preflab.report.html import write_pairs_report

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "pairs.jsonl"
        io.write_pairs(make_pairs(args.pairs), source)
        started = time.perf_counter()
        page = write_pairs_report(source, Path(tmp) / "pairs.html")
        report_s = time.perf_counter() - started
        result = {"pairs": args.pairs, "rounds": args.rounds, "preflab_report_s": round(report_s, 2),
                  "page_mb": round(page.stat().st_size / 1e6, 1), "source_mb": round(source.stat().st_size / 1e6, 1),
                  **measure(page, args.rounds, args.pairs),
                  "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                              "note": "a 2-core box shared with other jobs (loaded)"}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
