"""The README's tables of measured numbers, made from `lstm_viz/data/claims.json`.

`python scripts/measure_claims.py` prints them; with `--readme` it also writes each one into the
README between its markers (`<!-- claims:NAME -->` ... `<!-- /claims:NAME -->`), so the tables
there are always the last measurement's, never typed by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
CORES = {"cue_rnn_tanh": "RNN (tanh)", "cue_gru": "GRU", "cue_lstm": "LSTM"}
GAPS = (5, 10, 20, 50, 100, 200, 400)


def pct(v: float) -> str:
    """A percentage with enough digits to tell 99.95% from 100%."""
    if v == 1.0:
        return "100%"
    return f"{100 * v:.2f}%" if v >= 0.99 else f"{100 * v:.1f}%"


def _ci(c: dict) -> str:
    return f"[{pct(c['lo'])[:-1]}, {pct(c['hi'])}]"


def cue_table(claims: dict) -> str:
    head = "| core (n = 2,000 fresh sentences per cell) | " + " | ".join(f"gap {g}" for g in GAPS)
    lines = [head + " |", "|---" + "|---:" * len(GAPS) + "|"]
    for name, title in CORES.items():
        cells = [claims[f"{name}.accuracy.gap{g}"] for g in GAPS]
        lines.append(f"| {title} | " + " | ".join(f"{pct(c['value'])} {_ci(c)}" for c in cells))
        lines[-1] += " |"
    return "\n".join(lines)


def adding_table(claims: dict) -> str:
    rows = {
        "adding_rnn_tanh": "RNN (tanh)",
        "adding_gru": "GRU",
        "adding_lstm": "LSTM",
        "always_1": "always 1.0",
    }
    lines = ["| shipped model, T = 50 | test MSE | 95% CI | n |", "|---|---:|---:|---:|"]
    for key, title in rows.items():
        c = claims[f"adding.mse.{key}"]
        lines.append(
            f"| {title} | {c['value']:.4f} | [{c['lo']:.4f}, {c['hi']:.4f}] | {c['n']:,} |"
        )
    return "\n".join(lines)


CLAIMS = [  # (key, what it measures, chance or comparison)
    ("cue_lstm.forget_open.gap100", "LSTM, gap 100, as trained", ""),
    (
        "cue_lstm.forget_closed.gap100",
        "LSTM, gap 100, every forget gate shut after the cue",
        "chance",
    ),
    (
        "cue_lstm.forget_closed.short",
        "LSTM, short name sentences, forget shut after the name",
        "chance",
    ),
    (
        "cue_lstm.cells_clamped.k3",
        "LSTM, gap 100, best 3 memory cells set to 0 after the cue",
        "chance",
    ),
    ("cue_lstm.cells_clamped.k6", "... best 6 cells", "chance"),
    ("cue_lstm.cells_clamped.k10", "... best 10 cells", "chance"),
    ("cue_lstm.cells_clamped.k16", "... best 16 cells", "chance"),
    ("cue_lstm.cells_clamped.k32", "... all 32 cells", "chance"),
    ("cue_lstm.accuracy.free", "LSTM, free sentences (gap 0-50, asked at any word)", ""),
    ("cue_gru.accuracy.free", "GRU, free sentences", ""),
    ("cue_rnn_tanh.accuracy.free", "RNN (tanh), free sentences", ""),
    (
        "lesson.clamp_k_flipped",
        "LSTM, town sentences at gap 100: best {cells} cells set to 0 turn the answer",
        "",
    ),
    (
        "lesson.rnn_swapped_right",
        "RNN (tanh), town sentences ({gap} steps to the question): right for a swapped-in town",
        "",
    ),
]
VALUES = [  # (key, what it measures)
    (
        "cue_lstm.eta2.first",
        "LSTM, gap 100: share of the best memory cell's variance the answer explains",
    ),
    ("cue_lstm.eta2.last", "... of the 32nd cell's"),
    ("cue_lstm.mean_forget.gap", "LSTM, gap 100: mean forget gate across the gap, all 32 units"),
    ("chars_lstm.quote_r", "chars model: r of hidden unit 34 with inside-quotes (200 fresh texts)"),
    ("chars_lstm.bracket_r", "chars model: r of cell unit 4 with bracket depth (200 fresh texts)"),
]


def claims_table(claims: dict) -> str:
    lines = [
        "| what (fresh samples) | measured | 95% CI | n | chance |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, what, vs in CLAIMS:
        c = claims[key]
        note = ""
        if vs == "chance":
            where = (
                "at"
                if c["lo"] <= c["chance"] <= c["hi"]
                else ("above" if c["lo"] > c["chance"] else "below")
            )
            note = f"{pct(c['chance'])} ({where})"
        what = what.format(**c)
        lines.append(f"| {what} | {pct(c['value'])} | {_ci(c)} | {c['n']:,} | {note} |")
    for key, what in VALUES:
        c = claims[key]
        lines.append(
            f"| {what} | {c['value']:.3f} | [{c['lo']:.3f}, {c['hi']:.3f}] | {c['n']:,} | |"
        )
    return "\n".join(lines)


def tables(record: dict) -> dict[str, str]:
    c = record["claims"]
    return {"cue": cue_table(c), "adding": adding_table(c), "claims": claims_table(c)}


def rows(record: dict) -> str:
    return "\n\n".join(f"<!-- claims:{k} -->\n{v}" for k, v in tables(record).items())


def write_readme(record: dict, path: Path = README) -> list[str]:
    """Put each table between its markers in the README; returns the names written."""
    text, done = path.read_text(), []
    for name, table in tables(record).items():
        pattern = re.compile(
            rf"(<!-- claims:{name} -->\n)(?:.*?\n)?(<!-- /claims:{name} -->)", re.S
        )
        text, n = pattern.subn(lambda m, t=table: m.group(1) + t + "\n" + m.group(2), text)
        done += [name] * n
    path.write_text(text)
    return done
