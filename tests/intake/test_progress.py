"""Progress of long imports: bars on a terminal only, the one-line summary untouched otherwise."""

from __future__ import annotations

import io
import subprocess
import sys
from contextlib import contextmanager

from intake import pipeline
from intake.files import import_file
from tests.factories import add_people
from tests.intake.samples import RULES, counts, write_csv


class FakeTerminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self):
        return True


@contextmanager
def recorded_bars(monkeypatch, module=pipeline):
    """Every bar ``module`` (default :mod:`intake.pipeline`) opens, as (desc, count reached, total,
    drawn) at its end."""
    bars = []
    real = module.progress

    @contextmanager
    def recording(total, desc, **options):
        with real(total, desc, **options) as bar:
            yield bar
            bars.append((desc, bar.n, bar.total, not bar.disable))

    monkeypatch.setattr(module, "progress", recording)
    yield bars


def test_import_through_pipes_prints_only_the_summary(store, small_hierarchy, tmp_path):
    with store.Session() as s, s.begin():
        add_people(s)
    path = write_csv(tmp_path / "hotline.csv", "utf-8-sig")
    rejects = tmp_path / "bad.csv"
    done = subprocess.run([sys.executable, "-m", "cases", "import", str(path), "--db", store.url, "--hierarchy",
                           str(small_hierarchy), "--rejects", str(rejects)],
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (f"{path}: 9 rows, 3 added, 1 duplicates, 5 rejected, 1 unrouted\n"
                           f"rejected rows and reasons: {rejects}\n")


def test_bars_reach_their_totals_on_a_terminal(store, small_hierarchy, tmp_path, monkeypatch):
    with store.Session() as s, s.begin():
        add_people(s)
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(pipeline, "_JOIN_CHUNK", 4)  # 9 rows: joined in 3 chunks
    monkeypatch.setattr(pipeline, "_INSERT_CHUNK", 2)  # 3 new cases: inserted in 2 chunks
    path = write_csv(tmp_path / "hotline.csv", "utf-8-sig")
    with recorded_bars(monkeypatch) as bars:
        result = import_file(store.engine, path, hierarchy=small_hierarchy, rules=RULES,
                             rejects_path=tmp_path / "bad.csv")
    assert (result.rows, result.added, result.duplicates, result.rejected, result.unrouted) == (9, 3, 1, 5, 1)
    assert bars == [("hotline.csv: join", 9, 9, True), ("hotline.csv: route", 3, 3, True),
                    ("hotline.csv: insert", 3, 3, True)]
    drawn = terminal.getvalue()
    assert "hotline.csv: join" in drawn and "hotline.csv: insert" in drawn
    assert counts(store) == (3, 3)  # every new case has its first event, chunks or not


def test_no_bar_when_stderr_is_not_a_terminal(store, small_hierarchy, tmp_path, monkeypatch):
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    path = write_csv(tmp_path / "hotline.csv", "utf-8-sig")
    with recorded_bars(monkeypatch) as bars:
        import_file(store.engine, path, hierarchy=small_hierarchy, rules=RULES, rejects_path=tmp_path / "bad.csv")
    assert [drawn for *_, drawn in bars] == [False, False, False] and pipe.getvalue() == ""
