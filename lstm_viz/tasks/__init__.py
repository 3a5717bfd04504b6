"""Tasks: each makes deterministic data, trains, evaluates and offers example inputs.

`REGISTRY` maps a task's name (its models' `ModelConfig.task`) to its `Task` record
(`lstm_viz.tasks.task`): how to train it, evaluate it, its examples (per variant), how typed
text becomes its input, and the shipped models it made. Look tasks up here:

    get_task("cue").examples()          # a ValueError lists the tasks for an unknown name
    task_for(model)                     # the task that trained a model, or None
    shipped_task("forecast_co2_lstm")   # (Task, Shipped): a shipped model's task, core, variant

Data flows one way: tasks import `lstm_viz.models` and nothing above it (no trace, no analysis);
measurements that read traces reach a task as its `train_model(metrics=...)` callback.
"""

from __future__ import annotations

from lstm_viz.models import SequenceModel
from lstm_viz.tasks import adding, chars, cue, forecast
from lstm_viz.tasks.task import Example, Metrics, Shipped, Task

__all__ = [
    "REGISTRY", "Example", "Metrics", "Shipped", "Task", "get_task", "shipped_task", "task_for"
]  # fmt: skip

# the app offers the tasks' models in this order (the long-gap cue task first: it opens on it)
REGISTRY: dict[str, Task] = {t.name: t for t in (cue.TASK, chars.TASK, adding.TASK, forecast.TASK)}


def get_task(name: str) -> Task:
    """The registered task called `name`; a ValueError names the known ones."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"no task {name!r}; choose one of {', '.join(REGISTRY)}")
    return REGISTRY[name]


def task_for(model) -> Task | None:
    """The registered task that trained `model`; None for a bare core or an unknown task (an
    uploaded checkpoint may name any task)."""
    config = model.config if isinstance(model, SequenceModel) else None
    if config is None or not isinstance(config.task, str):
        return None
    return REGISTRY.get(config.task)


def shipped_task(name: str) -> tuple[Task, Shipped]:
    """The task a shipped model belongs to and its record (core, variant); ValueError if none."""
    for task in REGISTRY.values():
        for m in task.models:
            if m.name == name:
                return task, m
    known = [m.name for t in REGISTRY.values() for m in t.models]
    raise ValueError(f"no shipped model {name!r} in the task registry; choose one of {known}")
