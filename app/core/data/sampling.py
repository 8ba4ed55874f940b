"""Which points a minibatch SGD step uses: three ways of sampling them, all seeded.

* ``epoch`` (the default, what runs used before the others existed): the data are shuffled once
  per epoch by a generator seeded with (seed, epoch) and cut in order into batches of B (the
  last may be smaller). Every point is used once per epoch, so the steps' noises are not
  independent: over an epoch they sum to zero.
* ``with_replacement``: every step draws B indices uniformly, independently, repeats allowed.
* ``without_replacement``: every step draws a fresh subset of B distinct points, independently of
  the other steps.

The two fresh modes make the steps independent, which the noise theory of app.core.data.noise
needs; their minibatch mean's covariance is c_B·C, with C the per-example gradients' population
covariance and `batch_factor` giving c_B. Indices are drawn a block of steps at a time from a
generator seeded with (seed, mode, block), so the batch of step t depends only on (seed, t):
equal seeds give equal paths, also when a run is resumed.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

import numpy as np
from numpy.typing import NDArray

Sampling: TypeAlias = Literal["epoch", "with_replacement", "without_replacement"]
SAMPLINGS: tuple[Sampling, ...] = ("epoch", "with_replacement", "without_replacement")
_CODES = {"with_replacement": 1, "without_replacement": 2}
# Random numbers drawn per block (steps × batch, or steps × n for fresh subsets): a few MB at most.
_BLOCK_NUMBERS = 1 << 18
_MAX_BLOCK_STEPS = 1024

Indices: TypeAlias = NDArray[np.int64]


def batch_factor(n: int, size: int, sampling: Sampling) -> float:
    """c_B, the factor between the per-example gradients' covariance C (over the n points, 1/n)
    and the covariance of a minibatch's mean gradient: 1/B with replacement, (n − B)/(B(n − 1))
    for a fresh subset (the finite-population correction; 0 at B = n, where the batch is all the
    data). For `epoch` the steps are not independent and no c_B describes them; the fresh
    subset's is the nearest stand-in (each epoch batch is, alone, such a subset)."""
    b = min(size, n)
    if sampling == "with_replacement":
        return 1.0 / b
    return 0.0 if n == 1 else (n - b) / (b * (n - 1))


def block_steps(n: int, size: int, sampling: Sampling) -> int:
    """How many steps' batches one block holds."""
    per_step = n if sampling == "without_replacement" else size
    return max(1, min(_MAX_BLOCK_STEPS, _BLOCK_NUMBERS // max(1, per_step)))


def draw_block(n: int, size: int, sampling: Sampling, seed: int, block: int) -> Indices:
    """The batches of the steps block·R … (block + 1)·R − 1 (R = `block_steps`), one row each,
    for the fresh modes."""
    rows, b = block_steps(n, size, sampling), min(size, n)
    rng = np.random.default_rng([seed, _CODES[sampling], block])
    if sampling == "with_replacement":
        return rng.integers(0, n, size=(rows, b), dtype=np.int64)
    if b == n:
        return np.broadcast_to(np.arange(n, dtype=np.int64), (rows, n))
    # The b smallest of n uniform keys: a uniformly random subset, vectorised over the block.
    return np.argpartition(rng.random((rows, n)), b - 1, axis=1)[:, :b].astype(np.int64)


class Batches:
    """The batch of every step t (`of(t)`), for one dataset size, batch size, mode and seed."""

    def __init__(self, n: int, size: int, sampling: Sampling, seed: int) -> None:
        self.n, self.size, self.sampling, self.seed = n, min(size, n), sampling, seed
        self.per_epoch = -(-n // self.size)
        self.rows = block_steps(n, size, sampling)
        self._key: int | None = None
        self._block: Indices = np.empty((0, 0), dtype=np.int64)

    def of(self, t: int) -> Indices:
        if self.sampling == "epoch":
            epoch, k = divmod(t, self.per_epoch)
            if self._key != epoch:
                self._block = np.random.default_rng([self.seed, epoch]).permutation(self.n)
                self._key = epoch
            return self._block[k * self.size : (k + 1) * self.size]
        block, k = divmod(t, self.rows)
        if self._key != block:
            self._block = draw_block(self.n, self.size, self.sampling, self.seed, block)
            self._key = block
        row: Indices = self._block[k]
        return row
