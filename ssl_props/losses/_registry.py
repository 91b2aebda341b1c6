"""The loss registry: each SSL loss with its family, invariances and conventions (OpInfo-style).

A :class:`LossInfo` declares what a loss *is* (the checks in :mod:`ssl_props.checker` and the
theorems read it; nothing branches on a loss's name).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

#: "other": not classified by Garrido et al. 2023 (e.g. whitening, neither symmetry of Definition 3.2)
Family = Literal["sample-contrastive", "dimension-contrastive", "non-contrastive-predictor", "other"]
Invariance = Literal[
    "batch_permutation",  # f(z1[π], z2[π]) = f(z1, z2)
    "view_swap",  # f(z2, z1) = f(z1, z2)
    "embedding_rotation",  # f(z1 Q, z2 Q) = f(z1, z2) for orthogonal Q (depends on Gram matrices only)
    "feature_permutation",  # f(z1 P, z2 P) = f(z1, z2) for permutation matrices P
    "positive_scale",  # f(c z1, c z2) = f(z1, z2) for c > 0 (normalises its inputs)
    "centred_embedding_rotation",  # f(z1 Q, z2 Q) = f(z1, z2) for orthogonal Q with Q 1 = 1
    "sample_mixing",  # f(U z1, U z2) = f(z1, z2) for orthogonal U with U 1 = 1 (depends on centred covariances only)
]
#: what the loss takes beyond two (batch, dim) views. Every registered ``fn`` is callable as ``fn(a, b, **params)``
#: on two (batch, dim) tensors (its *pair form*: what the registry-wide checks call); ``shape`` says what ``a`` and
#: ``b`` are and ``state`` which keyword arguments carry the rest (a centre, a queue, labels, projection directions)
Shape = Literal[
    "pair",  # two views of the same samples, row i of each (the default)
    "teacher-student",  # (student, teacher) outputs of two different crops; the teacher is a detached target
    "prototype-scores",  # (s1, s2): scores of two views against K prototypes (batch, K)
    "single-batch",  # a regulariser of one (batch, dim) batch, applied to each view and summed or averaged
    "query-key",  # (q, k): queries and detached momentum-encoder keys; negatives from a queue or the batch
    "labelled",  # two views plus class labels of the samples
]


@dataclass(frozen=True)
class LossInfo:
    """Declarative record of a registered loss."""

    name: str
    fn: Callable[..., Any]
    family: Family
    invariances: frozenset[str]
    needs_stop_gradient: bool = False  # the second argument is a target that must get no gradient
    signature: tuple[str, str] = ("z1", "z2")  # ("p", "z") for predictor losses
    min_batch: int = 2  # smallest batch the formula is defined on
    reference: str = ""  # "[0] SimCLR, Chen et al., 2020, arXiv:2002.05709"
    param_grid: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # values a conformance search tries
    shape: str = "pair"  # a :data:`Shape`: what the two positional arguments are
    state: tuple[str, ...] = ()  # keyword arguments holding state or side information (``center``, ``queue``, ``labels``)
    forms: dict[str, Callable[..., Any]] = field(default_factory=dict)  # other calling forms: "single" (one batch),
    #                                                                   "multi_crop" (lists of crops)
    #: design choices a generic check reports as failures, ``{check name: reason}`` (e.g. SwAV's codes carry no
    #: gradient by design, so autograd differs from finite differences of the value)
    expected_failures: dict[str, str] = field(default_factory=dict)

    @property
    def defaults(self) -> dict[str, Any]:
        """The formula's keyword parameters and their defaults (the paper's / official code's values);
        execution flags (``gather_distributed``) are not parameters of the formula and are left out."""
        sig = inspect.signature(self.fn)
        return {k: p.default for k, p in sig.parameters.items()
                if p.kind is p.KEYWORD_ONLY and k not in EXECUTION_FLAGS}

    def __call__(self, a, b, **params):
        return self.fn(a, b, **params)


LOSSES: dict[str, LossInfo] = {}
#: keyword arguments that change how a loss runs, not what it computes
EXECUTION_FLAGS = frozenset({"gather_distributed"})


def register_loss(name: str, *, family: Family, invariances: tuple[str, ...], needs_stop_gradient: bool = False,
                  signature: tuple[str, str] = ("z1", "z2"), min_batch: int = 2, reference: str = "",
                  param_grid: dict[str, tuple[Any, ...]] | None = None, shape: str = "pair",
                  state: tuple[str, ...] = (), forms: dict[str, Callable] | None = None,
                  expected_failures: dict[str, str] | None = None) -> Callable[[Callable], Callable]:
    """Decorator registering a loss function under ``name`` (its pair form; see :data:`Shape`)."""
    if shape not in Shape.__args__:  # type: ignore[attr-defined]
        raise ValueError(f"unknown shape {shape!r} for loss {name!r}; allowed: {list(Shape.__args__)}")  # type: ignore[attr-defined]
    allowed = set(Invariance.__args__)  # type: ignore[attr-defined]
    unknown = set(invariances) - allowed
    if unknown:
        raise ValueError(f"unknown invariances {sorted(unknown)} for loss {name!r}; allowed: {sorted(allowed)}")

    inv = set(invariances)
    if "embedding_rotation" in inv:  # O(d) contains its subgroup fixing the all-ones vector
        inv.add("centred_embedding_rotation")

    def deco(fn: Callable) -> Callable:
        if name in LOSSES:
            raise ValueError(f"duplicate loss name {name!r}")
        LOSSES[name] = LossInfo(name, fn, family, frozenset(inv), needs_stop_gradient, signature,
                                min_batch, reference, dict(param_grid or {}), shape, tuple(state), dict(forms or {}),
                                dict(expected_failures or {}))
        return fn

    return deco


def get_loss(name: str) -> LossInfo:
    """The registered loss ``name``; an unknown name raises a ``KeyError`` listing the known ones."""
    try:
        return LOSSES[name]
    except KeyError:
        raise KeyError(f"unknown loss {name!r}; registered losses: {', '.join(sorted(LOSSES))}") from None
