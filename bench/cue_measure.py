"""Print the shipped cue models' numbers the README and lessons quote (issue 13): held-out
accuracy by gap with 95% Wilson intervals on fresh seeded sets of 1,000 (not the recorded 1,000:
seed + 1), the story sentences and five of our own read as typed, the forget-gate experiment on
the Martha sentence and the gap-50 saliency at the cue.

    python -m bench.cue_measure
"""

from __future__ import annotations

import numpy as np
import torch

from lstm_viz import compare
from lstm_viz.inputs import text_input
from lstm_viz.interventions import Clamp
from lstm_viz.models import load_shipped
from lstm_viz.tasks import cue
from lstm_viz.trace import trace

OWN = [
    ("Yesterday Martha went to the market with her brother and then she", "She"),
    ("When Peter finished his homework, the whole family drove to the seaside and watched the "
     "fireworks. Then he", "He"),
    ("I grew up in a town called Denver, where my grandmother sold marmalade at the farmers' "
     "market. That town is in", "Colorado"),
    ("Anna adopted a scruffy labrador puppy from the shelter last autumn, and everybody agrees "
     "that she", "She"),
    ("The astronaut trained for years near Houston before the mission. Everyone knows that "
     "Houston is in", "Texas"),
    ("I grew up in a town called Santa Fe ... I speak ... New Mexico", "New Mexico"),
]  # fmt: skip
SENTENCES = [(cue.STORY_MARTHA, "She"), (cue.STORY_SANTA_FE, "New Mexico"), *OWN]


@torch.no_grad()
def fresh_accuracy(model, gap: int, n: int = 1000) -> tuple[float, float, float]:
    ids, query, answer, _ = cue.make_batch(np.random.default_rng(cue.TEST_SEED + gap + 1), n, gap)
    pred = model(torch.as_tensor(ids))[torch.arange(n), torch.as_tensor(query)].argmax(-1)
    right = int((pred.numpy() == answer).sum())
    return (right / n, *cue.wilson(right, n))


@torch.no_grad()
def forget_closed(model, gap: int = 100, n: int = 1000) -> float:
    """Held-out accuracy with every forget gate shut after the cue (the Intervene experiment)."""
    ids, query, answer, at = cue.make_batch(np.random.default_rng(cue.TEST_SEED + gap), n, gap)
    right = 0
    for k in range(n):  # the cue sits at a different step in each sequence
        clamp = Clamp("forget", 0.0, steps=range(int(at[k]) + 1, ids.shape[1]))
        tr = trace(model.core, model.encode(ids[k : k + 1]), interventions=[clamp])
        logits = model.head(torch.as_tensor(tr.output, dtype=torch.float32))[0, query[k]]
        right += int(logits.argmax()) == answer[k]
    return right / n


def main() -> None:
    torch.set_num_threads(1)
    models = {title: load_shipped(name) for name, title in compare.CUE_MODELS.items()}
    print("fresh held-out accuracy (n=1000 per gap, seed TEST_SEED+gap+1), 95% Wilson interval")
    for title, m in models.items():
        cells = [f"{g}: {a:.1%} [{lo:.1%}, {hi:.1%}]" for g in (5, 10, 20, 50, 100, 200, 400)
                 for a, lo, hi in [fresh_accuracy(m, g)]]  # fmt: skip
        print(f"  {title}: " + "; ".join(cells))
    print("sentences as typed (answer at the query step, p)")
    for text, want in SENTENCES:
        row = []
        for title, m in models.items():
            got = text_input(m, text)
            q = cue.query_step(cue.read_text(text).tokens)
            p = torch.softmax(m(torch.as_tensor(got.x)[None])[0, q].detach(), -1).numpy()
            said = cue.ANSWERS[int(p.argmax())]
            row.append(f"{title} {said} {p.max():.4f}{'' if said == want else ' WRONG'}")
        print(f"  {text[:40]!r}... want {want}: " + "; ".join(row))
    lstm = models["LSTM"]
    ex = cue.examples()[0]
    q = cue.query_step(ex.labels)  # the '.' before She
    at = ex.labels.index("Martha")
    tr = trace(lstm.core, lstm.encode(ex.x[None]), interventions=[
        Clamp("forget", 0.0, steps=range(at + 1, len(ex.x)))])  # fmt: skip
    p = torch.softmax(lstm.head(torch.as_tensor(tr.output, dtype=torch.float32))[0, q], -1).detach()
    p0 = compare.answer_probs(lstm, ex.x[None], q)
    print(
        f"Martha story, LSTM: {cue.ANSWERS[int(p0.argmax())]} ({p0.max():.4f}) -> forget shut "
        f"after the name: {cue.ANSWERS[int(p.argmax())]} ({float(p.max()):.4f})"
    )
    print(f"held-out gap 100, forget shut after the cue: {forget_closed(lstm):.1%}")
    seq = compare.cue_sequence("Martha", 50)
    for title, m in models.items():
        sal = compare.answer_saliency(compare.float64_copy(m), seq.ids, seq.query_step, "She")
        probs = compare.answer_probs(m, seq.ids[None], seq.query_step)
        print(
            f"gap 50 Martha, {title}: saliency at the cue {sal[seq.cue_step]:.1e}, "
            f"answers {cue.ANSWERS[int(probs.argmax())]} ({probs.max():.4f})"
        )


if __name__ == "__main__":
    main()
