"""Edges outside the 20 that a set of weights names as one of the 20: the look-alike notes.

The network knows only the 20 edges of the paper's Table 1. An edge of another element whose onset and
shape come close to one of them (the M4,5 white lines of La just below Ni L2,3, those of Pr on Cu L2,3,
Be K on Si L2,3) can be named as that edge. How often it is, was measured on synthetic spectra for the
shipped weights (``scripts/physics_validation.py --look-alike-study``: spectra of the measured physics
with one edge outside the 20 as their only distractor and without it, the same spectra otherwise, in
windows around its onset). The measurement lies beside the weights, in ``<weights>.look-alikes.json``,
and names the sha256 of the weights it measured; for other weights there are no notes.

A look-alike is listed for an edge when the edge outside the 20 makes the weights name that edge, where
it is not, in at least :data:`MIN_EXCESS` more of the windows than without it, over at least
:data:`MIN_WINDOWS` windows that count the edge. The note says what the network cannot: which other
element could stand behind a name. It never changes a detection.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MIN_EXCESS", "MIN_WINDOWS", "LookAlike", "look_alike_path", "look_alike_table", "look_alike_edges"]

#: The smallest rise, with the edge outside the 20 in the window, of the share of windows in which an
#: absent edge of the 20 is named, for the pair to be listed: one window in five more than without it.
MIN_EXCESS = 0.2
#: The fewest windows (that count the edge of the 20 and do not hold it) a share is taken over.
MIN_WINDOWS = 50


@dataclass(frozen=True)
class LookAlike:
    """An edge outside the 20 that the weights name as ``edge``.

    Attributes
    ----------
    edge : str
        The edge of the 20 that is named, e.g. ``"Ni L2,3"``.
    look_alike : str
        The edge outside the 20, e.g. ``"La M4,5"``.
    edge_onset_ev : float
        Its onset (eV), from the complete distractor table.
    named_with, named_without : float
        Share of the synthetic windows (that count ``edge`` and do not hold it) in which ``edge`` is named,
        with ``look_alike`` as the spectrum's only edge outside the 20 and without it.
    """

    edge: str
    look_alike: str
    edge_onset_ev: float
    named_with: float
    named_without: float

    @property
    def excess(self) -> float:
        """``named_with - named_without``: how much more often the edge is named falsely with the look-alike."""
        return self.named_with - self.named_without

    def as_dict(self) -> dict[str, float | str]:
        """The fields as a JSON-ready dict (shares with 4 decimals)."""
        return {"edge": self.edge, "look_alike": self.look_alike, "edge_onset_ev": self.edge_onset_ev,
                "named_with": round(self.named_with, 4), "named_without": round(self.named_without, 4)}


def look_alike_path(weights: str | os.PathLike[str] | None = None) -> Path:
    """The look-alike measurement beside a weights file (default: the shipped weights):
    ``cnn_bilstm.pt`` -> ``cnn_bilstm.look-alikes.json``."""
    from ..learning.checkpoint import DEFAULT_WEIGHTS

    return Path(weights if weights is not None else DEFAULT_WEIGHTS).with_suffix(".look-alikes.json")


def _edge_of(distractor: str) -> str:
    """``"Ce M4,5 4f1"`` -> ``"Ce M4,5"``: the edge of a distractor variant's label."""
    return " ".join(distractor.split()[:2])


def look_alike_table(weights: str | os.PathLike[str] | None = None) -> dict[str, list[LookAlike]]:
    """Every listed look-alike of the weights, by the edge of the 20 they are named as.

    Parameters
    ----------
    weights : path, optional
        The weights file (default: the shipped weights). Its measurement is read from
        :func:`look_alike_path`, the rows of the model whose sha256 is that of ``weights``.

    Returns
    -------
    dict
        ``{edge: [LookAlike, ...]}``, each list by falling :attr:`LookAlike.excess`; variants of one edge
        outside the 20 (the 4f occupancies of a lanthanide's M4,5) count once, with their largest excess.
        Empty when there is no measurement beside the weights or none of these weights.
    """
    from ..learning.checkpoint import DEFAULT_WEIGHTS, sha256_of

    weights_path = Path(weights if weights is not None else DEFAULT_WEIGHTS)
    path = look_alike_path(weights_path)
    if not path.is_file():
        return {}
    sha = sha256_of(weights_path)
    model = next((m for m in json.loads(path.read_text())["models"] if m["sha256"] == sha), None)
    if model is None:
        return {}
    best: dict[tuple[str, str], LookAlike] = {}
    for row in model["rows"]:
        for edge, named_with in row["named_with"].items():
            found = LookAlike(edge, _edge_of(row["distractor"]), float(row["onset_ev"]), float(named_with),
                              float(row["named_without"][edge]))
            if row["eligible"][edge] < MIN_WINDOWS or found.excess < MIN_EXCESS:
                continue
            key = (edge, found.look_alike)
            if key not in best or found.excess > best[key].excess:
                best[key] = found
    table: dict[str, list[LookAlike]] = {}
    for found in sorted(best.values(), key=lambda f: -f.excess):
        table.setdefault(found.edge, []).append(found)
    return table


def look_alike_edges(edges: list[str], window_ev: tuple[float, float] | None = None,
                     weights: str | os.PathLike[str] | None = None) -> list[LookAlike]:
    """The look-alikes of the named ``edges`` (e.g. an :class:`~eels_core.real.EdgePrediction`'s
    ``detected_edges()``), those whose onset lies in ``window_ev`` when it is given.

    Examples
    --------
    >>> [f.look_alike for f in look_alike_edges(["Cu L2,3"])][:1]  # doctest: +SKIP
    ['Pr M4,5']
    """
    table = look_alike_table(weights)
    lo, hi = window_ev if window_ev is not None else (float("-inf"), float("inf"))
    return [f for edge in edges for f in table.get(edge, []) if lo <= f.edge_onset_ev <= hi]
