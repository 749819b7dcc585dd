"""Optimization-advisor agent: turn a saved AgentResult into hyper-parameter changes.

It reads the JSON of one analysed run (schema ``agent_result.v1.json``) and the run's
current hyper-parameters, and proposes a change per evidence-based recommendation whose
``values`` hold a concrete number. General advice (``basis == "general"``) is passed on as
notes, never as changes, and a low-confidence analysis makes every change tentative.
Run it as a script::

    python docs/examples/optimization_advisor.py result.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# recommendation value -> (hyper-parameter it sets, how to describe it)
VALUE_TO_HPARAM = {
    "suggested_lr": ("learning_rate", "peak learning rate"),
    "clip_value": ("max_grad_norm", "gradient clipping threshold"),
    "stop_step": ("max_steps", "last step (or keep the checkpoint of this step)"),
}


def _current(hparams: dict, name: str) -> object:
    for key, value in hparams.items():
        if key == name or key.rsplit(".", 1)[-1] == name:
            return value
    return None


def propose_changes(result: dict, hparams: dict | None = None) -> dict:
    """Return hyper-parameter changes backed by the result's evidence.

    Parameters
    ----------
    result : dict
        A saved AgentResult (``json.loads(result.to_json())``).
    hparams : dict or None, default=None
        Current hyper-parameters; the result's own ``hparams`` when None.

    Returns
    -------
    dict
        ``changes`` (one per hyper-parameter: ``hparam``, ``current``, ``proposed``,
        ``what``, ``action``, ``because`` (finding ids), ``priority``), ``tentative``
        (True when the analysis' confidence is low or it was partial) and ``notes``
        (general advice and the confidence explanation).
    """
    hparams = result.get("hparams", {}) if hparams is None else hparams
    changes: dict[str, dict] = {}
    notes = []
    for rec in sorted(result["recommendations"], key=lambda r: r["priority"]):
        if rec.get("basis", "general" if rec["general"] else "evidence") == "general":
            notes.append(rec["text"])
            continue
        for value_name, (hparam, what) in VALUE_TO_HPARAM.items():
            proposed = rec["values"].get(value_name)
            if proposed is None or hparam in changes:
                continue  # the most urgent recommendation sets each hyper-parameter
            changes[hparam] = {
                "hparam": hparam,
                "current": _current(hparams, hparam),
                "proposed": int(proposed) if hparam == "max_steps" else proposed,
                "what": what,
                "action": rec["action"],
                "because": rec["finding_ids"],
                "priority": rec["priority"],
            }
    confidence = result["confidence"]
    notes.append(confidence.get("explanation") or confidence["level"])
    tentative = confidence["level"] == "low" or result["status"] != "complete"
    return {"changes": list(changes.values()), "tentative": tentative, "notes": notes}


def main(argv: list[str] | None = None) -> int:
    """Print the proposed changes for a saved result as JSON."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: optimization_advisor.py RESULT.json")
        return 2
    result = json.loads(Path(args[0]).read_text())
    print(json.dumps(propose_changes(result), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
