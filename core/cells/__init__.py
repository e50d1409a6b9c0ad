"""The recurrent cell types, one class per file, and the registry the rest of core reads.

Adding a cell (a UGRNN variant, a multiplicative RNN, a linear recurrent unit): write its class
in a new file (see ``core.cells.base.Cell`` for what it provides), import it here and add one
line to ``CELLS``. Models, Jacobians, the fixed-point solver, time estimates, the CLI and the Train
page all take the cell from this registry; tests/conftest.py's ``cell`` fixture runs every test
that takes it on every registered type.

Imports torch and nothing else from core, so ``core.config`` can validate cell names against it.
"""
from __future__ import annotations

from core.cells.base import BOX_EDGE, Cell, in_box
from core.cells.gru import GRU
from core.cells.lstm import LSTM
from core.cells.mrnn import MRNN
from core.cells.ugrnn import UGRNN
from core.cells.vanilla import ReLU, Tanh

__all__ = ["CELLS", "BOX_EDGE", "Cell", "in_box"]

CELLS: dict[str, type[Cell]] = {
    "gru": GRU,
    "lstm": LSTM,
    "ugrnn": UGRNN,
    "tanh": Tanh,
    "relu": ReLU,
    "mrnn": MRNN,
}
