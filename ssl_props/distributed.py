"""Distributed equivalence: a loss computed on k processes' shards must train like the full batch.

SSL losses are trained data-parallel. Each rank computes ``L_r`` on its shard (gathering the other
ranks' embeddings when the loss needs them) and DDP *averages* the parameter gradients over ranks.
That is equivalent to single-process training on the full batch iff, for every rank r,

    mean_r L_r = L(full batch)    and    (∂L_r/∂z_r on rank r, after the collectives' backward) / k = ∂L/∂z_r.

Real bugs break exactly this: ``torch.distributed.all_reduce`` has no backward (Barlow Twins'
cross-correlation, lightly #1977), a gather without gradient (negatives from other ranks are
constants), a gather layer whose backward does not sum over ranks (lightly #1528), labels not offset
by ``rank * n`` (lightly #1176). :func:`compare_data_parallel` runs a loss in k CPU processes
(``gloo`` on 127.0.0.1) on shards of a batch and compares with the single-process full batch.

:func:`gather_with_grad` is the gradient-carrying all-gather the registry's losses use when called with
``gather_distributed=True``.
"""
from __future__ import annotations

import os
import socket
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Sequence

import torch
import torch.distributed as dist

from ssl_props.tolerances import sum_of_products, value_tolerance

__all__ = ["gather_with_grad", "gather_pair", "is_distributed", "rank_and_world", "compare_data_parallel",
           "DistributedComparison"]


def is_distributed() -> bool:
    """True inside an initialised process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank_and_world() -> tuple[int, int]:
    """``(rank, world_size)``, ``(0, 1)`` outside a process group."""
    return (dist.get_rank(), dist.get_world_size()) if is_distributed() else (0, 1)


class _GatherWithGrad(torch.autograd.Function):
    """all_gather whose backward sums every rank's gradient for this rank's slice (then keeps it)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        out = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(out, x.contiguous())
        ctx.n = x.shape[0]
        return torch.cat(out, dim=0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)  # d(Σ_s L_s)/d(gathered) on every rank
        r = dist.get_rank()
        return grad[r * ctx.n:(r + 1) * ctx.n]


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Concatenate ``x`` (``(n, d)``, same ``n`` on every rank) over ranks along dim 0, keeping gradients.

    Outside a process group (or with one process) returns ``x`` unchanged.
    """
    if not isinstance(x, torch.Tensor) or not is_distributed():
        return x
    return _GatherWithGrad.apply(x)


def gather_pair(z1: Any, z2: Any) -> tuple[Any, Any]:
    """:func:`gather_with_grad` on both views (the ``gather_distributed=True`` path of the registered losses)."""
    return gather_with_grad(z1), gather_with_grad(z2)


# --------------------------------------------------------------------------------------------------
# running a loss data-parallel on CPU processes


@dataclass(frozen=True)
class DistributedComparison:
    """Single-process full batch vs k-process data-parallel, for one loss on one input."""

    label: str
    world_size: int
    loss_full: float
    loss_parallel: float
    loss_tol: float
    grad_error: float  # max |combined − full| over both views' gradients
    grad_tol: float
    error: str = ""  # a rank raised

    @property
    def loss_ok(self) -> bool:
        return not self.error and abs(self.loss_parallel - self.loss_full) <= self.loss_tol

    @property
    def grad_ok(self) -> bool:
        return not self.error and self.grad_error <= self.grad_tol

    @property
    def ok(self) -> bool:
        return self.loss_ok and self.grad_ok

    def message(self) -> str:
        if self.error:
            return f"{self.label}: a rank raised {self.error}"
        parts = []
        if not self.loss_ok:
            parts.append(f"mean of the {self.world_size} ranks' losses {self.loss_parallel:.12g} ≠ full-batch loss "
                         f"{self.loss_full:.12g} (|difference| > {self.loss_tol:.3g}: labels not offset by rank, or "
                         f"negatives not gathered?)")
        if not self.grad_ok:
            parts.append(f"data-parallel gradient differs from the full batch's by {self.grad_error:.3g} > "
                         f"{self.grad_tol:.3g} (a collective without backward: torch.distributed.all_reduce/all_gather "
                         f"instead of torch.distributed.nn.*, or a gather layer whose backward does not sum over ranks)")
        return f"{self.label}: " + ("; ".join(parts) if parts else "equivalent")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world_size: int, port: int, fns: Sequence[Callable], inputs: Sequence[tuple[torch.Tensor, torch.Tensor]],
            outdir: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size,
                            timeout=timedelta(seconds=60))
    results: list[Any] = []
    try:
        for fn in fns:
            for z1, z2 in inputs:
                m = z1.shape[0] // world_size
                a = z1[rank * m:(rank + 1) * m].clone().requires_grad_(True)
                b = z2[rank * m:(rank + 1) * m].clone().requires_grad_(True)
                try:
                    out = fn(a, b)
                    if out.requires_grad:
                        out.backward()
                    results.append((float(out), a.grad, b.grad, ""))
                except Exception as e:  # noqa: BLE001 - reported, and the other ranks must not hang
                    results.append((float("nan"), None, None, f"{type(e).__name__}: {e}"))
                dist.barrier()
    finally:
        torch.save(results, os.path.join(outdir, f"rank{rank}.pt"))
        dist.destroy_process_group()


def _full_batch(fn: Callable, z1: torch.Tensor, z2: torch.Tensor):
    a, b = z1.clone().requires_grad_(True), z2.clone().requires_grad_(True)
    out = fn(a, b)
    if out.requires_grad:
        out.backward()
    zero = torch.zeros_like(z1)
    return out.detach(), (a.grad if a.grad is not None else zero), (b.grad if b.grad is not None else zero)


def compare_data_parallel(fns: Sequence[Callable] | Callable, inputs: Sequence[tuple[torch.Tensor, torch.Tensor]], *,
                          world_size: int = 2, labels: Sequence[str] | None = None) -> list[DistributedComparison]:
    """Run every ``fn`` on every ``(z1, z2)`` in ``world_size`` CPU processes (gloo, 127.0.0.1) and compare.

    One group of processes serves all losses and inputs (spawning costs seconds). ``fns`` must be
    picklable (module-level functions or ``functools.partial`` of them); each input's batch must be
    divisible by ``world_size``. Tolerances: the loss as :func:`ssl_props.tolerances.value_tolerance`;
    gradients ``SAFETY · n·d · k · eps · ‖g‖_∞`` (k extra rounded sums from the collectives' reduction).
    """

    fns = [fns] if callable(fns) else list(fns)
    labels = list(labels) if labels is not None else [getattr(f, "__name__", repr(f)) for f in fns]
    inputs = [(a.detach().double().cpu(), b.detach().double().cpu()) for a, b in inputs]
    for a, _ in inputs:
        if a.shape[0] % world_size:
            raise ValueError(f"batch {a.shape[0]} is not divisible by world_size={world_size}")
    with tempfile.TemporaryDirectory() as tmp:
        torch.multiprocessing.start_processes(_worker, args=(world_size, _free_port(), fns, inputs, tmp),
                                              nprocs=world_size, start_method="spawn", join=True)
        per_rank = [torch.load(os.path.join(tmp, f"rank{r}.pt"), weights_only=False) for r in range(world_size)]
    out: list[DistributedComparison] = []
    i = 0
    for fn, label in zip(fns, labels):
        for z1, z2 in inputs:
            rows = [per_rank[r][i] for r in range(world_size)]
            i += 1
            lbl = f"{label} on {tuple(z1.shape)}"
            err = next((r[3] for r in rows if r[3]), "")
            full, g1, g2 = _full_batch(fn, z1, z2)
            n, d = z1.shape
            ltol = value_tolerance(full, z1, z2, g1, g2)
            gmax = max(float(g1.abs().max()), float(g2.abs().max()))
            gtol = float(sum_of_products(torch.float64, n * d * world_size, gmax))
            if err:
                out.append(DistributedComparison(lbl, world_size, float(full), float("nan"), ltol, float("inf"), gtol, err))
                continue
            loss_par = sum(r[0] for r in rows) / world_size
            zero = torch.zeros(n // world_size, d, dtype=torch.float64)
            c1 = torch.cat([r[1] if r[1] is not None else zero for r in rows]) / world_size
            c2 = torch.cat([r[2] if r[2] is not None else zero for r in rows]) / world_size
            gerr = max(float((c1 - g1).abs().max()), float((c2 - g2).abs().max()))
            out.append(DistributedComparison(lbl, world_size, float(full), loss_par, ltol, gerr, gtol))
    return out
