"""Small networks on data: multilayer perceptrons over a flat θ ∈ Rⁿ (laid out as PyTorch
flattens an nn.Sequential of nn.Linear), their losses with gradients and exact Hessian-vector
products, toy datasets, sharpness, training, and 2-D slices of the loss.

What the rest of the app may import from this room is listed here; every other name is internal.
"""

from app.core.networks.data import (
    DEFAULT_NOISE,
    MAX_NOISE,
    MAX_POINTS,
    TOY_DATASETS,
    ToyData,
    chebyshev_t4,
    from_points,
    toy_dataset,
)
from app.core.networks.mlp import (
    ACTIVATIONS,
    MAX_HIDDEN_LAYERS,
    MAX_WIDTH,
    Activation,
    Architecture,
    forward,
    init_theta,
    layers,
)
from app.core.networks.objective import LOSSES, LossName, NetworkLoss
from app.core.networks.sharpness import SharpnessSummary, lanczos, sharpness, summarize_sharpness
from app.core.networks.slices import (
    HEIGHT_TOLERANCE,
    Faithfulness,
    Grid,
    Plane,
    PlaneKind,
    Projection,
    Slice,
    faithfulness,
    filter_normalized,
    loss_grid,
    loss_slice,
    pca_directions,
    pca_plane,
    plane_losses,
    project,
    random_plane,
    window,
)
from app.core.networks.train import (
    Minibatches,
    StepRecord,
    state_from_lists,
    state_to_lists,
    train,
)

__all__ = [
    "HEIGHT_TOLERANCE",
    "Faithfulness",
    "Grid",
    "Plane",
    "PlaneKind",
    "Projection",
    "Slice",
    "faithfulness",
    "filter_normalized",
    "loss_grid",
    "loss_slice",
    "pca_directions",
    "pca_plane",
    "plane_losses",
    "project",
    "random_plane",
    "window",
    "DEFAULT_NOISE",
    "MAX_NOISE",
    "MAX_POINTS",
    "TOY_DATASETS",
    "ToyData",
    "chebyshev_t4",
    "toy_dataset",
    "ACTIVATIONS",
    "LOSSES",
    "MAX_HIDDEN_LAYERS",
    "MAX_WIDTH",
    "Activation",
    "Architecture",
    "LossName",
    "Minibatches",
    "NetworkLoss",
    "SharpnessSummary",
    "StepRecord",
    "forward",
    "from_points",
    "init_theta",
    "lanczos",
    "layers",
    "sharpness",
    "summarize_sharpness",
    "state_from_lists",
    "state_to_lists",
    "train",
]
