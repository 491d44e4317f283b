"""The agreement page with its pictures on 2,000 generated documents x 3 annotators: what the
charts add to the report (target: the report and its charts together under 15 s).

    .venv/bin/python -m benchmarks.agreement_charts [--docs 2000] [--annotators 3]

The project is benchmarks/agreement.py's. Timed, alternating: agreement_report() alone (as
`annotator iaa` prints a table), and what the reports page does: the report with every
document (top=None), agreement_by_day() and the charts' geometry, then the page's SVG
rendered. The ratio of the two is the figure to watch.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from ._common import Target, exit_code, machine_info, print_summary, spread, timed, write_result
from .agreement import build

TARGET_SECONDS = 15.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--annotators", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    from annotator.db import ensure_schema, get_db
    from annotator.review.agreement import agreement_report
    from annotator.review.agreement_formats import as_html
    from annotator.review.charts import agreement_by_day
    from annotator.web.app import create_app

    names = [f"annotator{i}" for i in range(1, args.annotators + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"INSTANCE_PATH": str(Path(tmp) / "instance")})
        ensure_schema(get_db(app))
        build(app, args.docs, names)

        def pictured():
            with get_db(app).reading() as session:
                report = agreement_report(session, top=None)
                return as_html(report, agreement_by_day(session))

        def plain():
            with get_db(app).reading() as session:
                return agreement_report(session)

        alone, charted, html = [], [], ""
        for _ in range(args.repeat):
            alone.append(timed(plain)[0].wall)
            timing, html = timed(pictured)
            charted.append(timing.wall)
        get_db(app).dispose()
    report_s, page_s = spread(alone)["median"], spread(charted)["median"]
    figures = {
        "documents": args.docs,
        "annotators": args.annotators,
        "report_s": spread(alone),
        "report_with_charts_s": spread(charted),
        "ratio_with_charts_to_report": round(page_s / report_s, 2),
        "html_kb": round(len(html.encode()) / 1024, 1),
    }
    targets = [Target("report with its charts (median)", page_s, "<=", TARGET_SECONDS, "s")]
    path = write_result("agreement_charts", figures, targets, machine=machine_info(), started=started)
    lines = [f"report alone {report_s:.2f} s, with charts {page_s:.2f} s ({figures['ratio_with_charts_to_report']}x)"]
    print_summary("agreement charts", lines, targets, path)
    return exit_code(targets)


if __name__ == "__main__":
    sys.exit(main())
