"""The big screen's style sheet (one 1920x1080 screen, read from 5 m): sizes in viewport units so the
board fills any wall without scrolling; grades as coloured boxes with a word."""

from __future__ import annotations

from reports.wording import GRADE_COLOURS

#: Rows of the ranking panel shown per end (best and worst).
RANKING_ROWS = 5
#: Seconds each ranking stays on screen while the panels rotate.
ROTATE_SECONDS = 15


def _grade_rules() -> str:
    return "".join(f".gc-brief .gc-grade-{g} {{ background: {fill}; color: {ink}; }}"
                   for g, (fill, ink) in GRADE_COLOURS.items())


STYLE = """
<style>
header[data-testid='stHeader'] { display: none; }
.block-container { padding: 0.5rem 1.2rem 0 1.2rem !important; max-width: 100% !important; }
.gc-brief { height: calc(100vh - var(--gc-brief-top, 7.5rem)); box-sizing: border-box; display: flex;
  flex-direction: column; gap: 1.2vh; padding: 1.2vh 1vw; background: #0b1d33; color: #e8eef5;
  border-radius: 8px; overflow: hidden; font-family: "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif; }
.gc-brief h1 { font-size: 3.4vh; line-height: 1.2; margin: 0; padding: 0; color: #ffffff; font-weight: 700; }
.gc-brief h2 { font-size: 2.3vh; line-height: 1.2; margin: 0 0 0.8vh 0; padding: 0; color: #9fc3ff;
  font-weight: 600; }
.gc-brief .gc-top { display: flex; justify-content: space-between; align-items: baseline; }
.gc-brief .gc-when { font-size: 2vh; color: #b8c7d9; }
.gc-brief .gc-tiles { display: grid; grid-template-columns: repeat(6, 1fr); gap: 1vw; }
.gc-brief .gc-tile { background: #12284a; border-radius: 6px; padding: 1vh 0.8vw; }
.gc-brief .gc-tile-label { font-size: 2.1vh; color: #b8c7d9; display: flex; justify-content: space-between;
  align-items: center; }
.gc-brief .gc-tile-value { font-size: 5.4vh; font-weight: 700; line-height: 1.15; color: #ffffff; }
.gc-brief .gc-change { font-size: 1.8vh; line-height: 1.35; white-space: nowrap; }
.gc-brief .gc-good { color: #51cf66; } .gc-brief .gc-bad { color: #ff6b9a; } .gc-brief .gc-neutral { color: #b8c7d9; }
.gc-brief .gc-body { flex: 1; min-height: 0; display: grid; grid-template-columns: 40% 1fr 27%; gap: 1vw; }
.gc-brief section { background: #12284a; border-radius: 6px; padding: 1.2vh 0.9vw; min-height: 0;
  overflow: hidden; position: relative; }
.gc-brief .gc-map img { width: 100%; height: calc(100% - 3.4vh); object-fit: contain; display: block; }
.gc-brief .gc-side { display: flex; flex-direction: column; gap: 1vw; min-height: 0; }
.gc-brief .gc-side section { flex: 1; }
.gc-brief table { width: 100%; border-collapse: collapse; font-size: 2.1vh; }
.gc-brief td { padding: 0.45vh 0.4vw; border-bottom: 1px solid #23406b; white-space: nowrap; }
.gc-brief td.gc-name { white-space: normal; }
.gc-brief td.gc-num { text-align: right; font-variant-numeric: tabular-nums; }
.gc-brief tr.gc-gap td { color: #6f86a3; text-align: center; border-bottom: none; }
.gc-brief .gc-badge { display: inline-block; min-width: 2.6vh; padding: 0.2vh 0.5vw; border-radius: 4px;
  font-weight: 700; text-align: center; font-size: 1.9vh; line-height: 1.3; }
.gc-brief .gc-big { font-size: 6vh; font-weight: 700; color: #ffffff; line-height: 1.1; }
.gc-brief .gc-muted { font-size: 2vh; color: #b8c7d9; }
.gc-brief .gc-rotor { position: absolute; inset: 1.2vh 0.9vw; }
.gc-brief .gc-rotate .gc-rotor { animation: gc-rotate ROTATE_TOTALs infinite; opacity: 0; }
.gc-brief .gc-rotate .gc-rotor:nth-child(2) { animation-delay: ROTATE_HALFs; }
@keyframes gc-rotate { 0% { opacity: 1; visibility: visible; } 48% { opacity: 1; visibility: visible; }
  50% { opacity: 0; visibility: hidden; } 100% { opacity: 0; visibility: hidden; } }
GRADES
</style>
""".replace("ROTATE_TOTAL", str(2 * ROTATE_SECONDS)).replace("ROTATE_HALF", str(ROTATE_SECONDS)).replace(
    "GRADES", _grade_rules())
