"""External oracles for Balestriero & LeCun (NeurIPS 2022, arXiv:2205.11508): the classical spectral methods as
scikit-learn (>= 1.8) and SciPy implement them, the independent side of the spectral-equivalence checks.

* :func:`le` — Laplacian Eigenmaps, ``sklearn.manifold.spectral_embedding`` (ratio-cut ``norm_laplacian=False``
  or Belkin–Niyogi ``norm_laplacian=True``; always ``drop_first=False``: on a disconnected G the first vector is
  an arbitrary mix of component indicators, not 1);
* :func:`classical_mds` — ``sklearn.manifold.ClassicalMDS(metric="precomputed")`` (NOT ``MDS``, which is SMACOF);
* :func:`isomap` — ``sklearn.manifold.Isomap``; :func:`geodesics` — ``scipy.sparse.csgraph.shortest_path``;
* :func:`cca` — ``sklearn.cross_decomposition.CCA`` (NIPALS, ``tol`` on the squared change of the weights);
* :func:`pencil` — ``scipy.linalg.eigh(a, b)`` (B-orthonormal eigenvectors, ascending);
* :func:`max_angle` — the largest principal angle, ``scipy.linalg.subspace_angles``, which REFUSES rank-deficient
  or non-finite inputs (a zero or NaN embedding has tiny, meaningless angles).

Nothing here calls the project's closed forms. Every call runs under :func:`single_thread` (torch and BLAS pinned
to one thread: on the 2-core CI oversubscribed threads made these checks ~80x slower). When scikit-learn is
absent, :func:`sklearn` skips the check with one line, unless ``SSL_PROPS_REQUIRE_SKLEARN=1`` or ``CI=true``, where
the missing oracle is an error (it is in the ``test`` extra).
"""
from __future__ import annotations

import contextlib
import functools
import os
import warnings
from typing import Any, Callable, Iterator

import numpy as np
import torch

from ssl_props import tolerances as tol
from ssl_props.errors import InvalidArgument

REQUIRE_ENV = "SSL_PROPS_REQUIRE_SKLEARN"
# the independent side of each check, as the report lists it (Check.oracle)
SK_LE = "scikit-learn spectral_embedding (ARPACK, drop_first=False)"
SK_MDS = "scikit-learn ClassicalMDS(metric='precomputed')"
SK_CCA = "scikit-learn CCA (NIPALS, scale=False, tol=1e-15)"
SCIPY_EIGH = "scipy.linalg.eigh(a, b) (LAPACK generalised symmetric-definite)"
LBFGS = "batched L-BFGS (ours), certified by ‖∇f‖ and the Hessian's curvature"
CCA_TOL = 1e-15  # NIPALS stopping rule on ‖Δw‖² (sklearn's `tol`): weights settle to √CCA_TOL ≈ 3e-8 per step


def required() -> bool:
    """Whether a missing scikit-learn is an error: ``SSL_PROPS_REQUIRE_SKLEARN=1`` or ``CI=true``."""
    return os.environ.get(REQUIRE_ENV) == "1" or os.environ.get("CI", "").lower() == "true"


def sklearn() -> Any:
    """``sklearn`` (its ``manifold`` and ``cross_decomposition`` loaded), or a one-line skip when it is absent."""
    try:
        import sklearn as sk
        import sklearn.cross_decomposition  # noqa: F401
        import sklearn.manifold  # noqa: F401
    except ImportError:
        if required():
            raise InvalidArgument(f"scikit-learn >= 1.8 is required here ({REQUIRE_ENV}=1 or CI=true): "
                                  "pip install 'scikit-learn>=1.8' (the `test` extra)") from None
        import pytest

        pytest.skip("scikit-learn not installed: oracle check not run (pip install 'scikit-learn>=1.8')")
    if not hasattr(sk.manifold, "ClassicalMDS"):
        raise InvalidArgument(f"scikit-learn {sk.__version__} has no ClassicalMDS: install scikit-learn >= 1.8")
    return sk


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """torch and the BLAS/OpenMP pools limited to one thread inside the block (restored after; threadpoolctl comes
    with scikit-learn — without it only torch is pinned)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1) if threadpool_limits else contextlib.nullcontext():
            yield
    finally:
        torch.set_num_threads(before)


def pinned(check: Callable[..., Any]) -> Callable[..., Any]:
    """Run a whole check (its L-BFGS and its oracle calls) under :func:`single_thread`; keyword overrides pass through."""
    @functools.wraps(check)
    def run(**overrides: Any) -> Any:
        with single_thread():
            return check(**overrides)
    return run


def to_numpy(t: torch.Tensor | np.ndarray) -> np.ndarray:
    return t.detach().cpu().double().numpy() if isinstance(t, torch.Tensor) else np.asarray(t, dtype=np.float64)


def full_rank(a: torch.Tensor | np.ndarray, what: str) -> np.ndarray:
    """``a`` as a float64 array, refused (InvalidArgument) if non-finite or numerically rank deficient:
    ``σ_min ≤ SAFETY·max(N, K)·eps·σ_max`` (the rounding of an SVD of that size, Higham §3.1)."""
    x = to_numpy(a)
    if x.ndim != 2 or x.shape[1] == 0:
        raise InvalidArgument(f"{what} must be a non-empty (N, K) matrix, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise InvalidArgument(f"{what} has non-finite entries: principal angles of it would be meaningless")
    s = np.linalg.svd(x, compute_uv=False)
    if s.size < x.shape[1] or s[-1] <= tol.SAFETY * max(x.shape) * tol.eps(torch.float64) * s[0]:
        raise InvalidArgument(f"{what} is rank deficient (σ_min/σ_max = {s[-1] / max(s[0], 1e-300):.3g}, shape "
                              f"{x.shape}): principal angles need full column rank; drop the null columns")
    return x


def max_angle(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    """Largest principal angle (rad) between the column spans, ``scipy.linalg.subspace_angles`` (inputs refused
    unless finite and of full column rank, see :func:`full_rank`)."""
    from scipy.linalg import subspace_angles

    return float(np.max(subspace_angles(full_rank(a, "first basis"), full_rank(b, "second basis"))))


def le(g: torch.Tensor, n_components: int, *, normalised: bool, seed: int = 0) -> np.ndarray:
    """``spectral_embedding(G, n_components, norm_laplacian=normalised, drop_first=False)`` (ARPACK, tol 0): the
    ``n_components`` bottom eigenvectors of ``L`` (ratio cut) or ``D^{-1/2}·`` those of ``D^{-1/2}LD^{-1/2}``."""
    sk = sklearn()
    with single_thread(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Graph is not fully connected")
        return sk.manifold.spectral_embedding(to_numpy(g), n_components=n_components, norm_laplacian=normalised,
                                              drop_first=False, eigen_solver="arpack", random_state=seed)


def classical_mds(delta: torch.Tensor | np.ndarray, n_components: int) -> np.ndarray:
    """``ClassicalMDS(n_components, metric="precomputed").fit_transform(Δ)``: top eigenvectors of ``−½HΔ²H``
    scaled by √eigenvalue. ``Δ`` must be a distance matrix (a similarity gives negative squared distances)."""
    sk = sklearn()
    d = to_numpy(delta)
    if (d < 0).any() or not np.allclose(d, d.T, rtol=0, atol=0) or (np.diag(d) != 0).any():
        raise InvalidArgument("classical MDS needs a symmetric, non-negative distance matrix with a zero diagonal")
    with single_thread():
        return sk.manifold.ClassicalMDS(n_components=n_components, metric="precomputed").fit_transform(d)


def isomap(x: torch.Tensor | np.ndarray, n_neighbors: int, n_components: int) -> np.ndarray:
    """``Isomap(n_neighbors, n_components, eigen_solver="dense").fit_transform(X)``."""
    sk = sklearn()
    with single_thread():
        return sk.manifold.Isomap(n_neighbors=n_neighbors, n_components=n_components,
                                  eigen_solver="dense").fit_transform(to_numpy(x))


def geodesics(g: torch.Tensor | np.ndarray) -> np.ndarray:
    """Graph-geodesic distances of a weighted graph (edge lengths = entries of ``g``), SciPy's shortest_path."""
    from scipy.sparse.csgraph import shortest_path

    with single_thread():
        return shortest_path(to_numpy(g), directed=False)


def cca(x1: torch.Tensor | np.ndarray, x2: torch.Tensor | np.ndarray, k: int) -> dict[str, np.ndarray]:
    """``CCA(k, scale=False, tol=1e-15).fit(X1, X2)``: ``rho`` (correlation of each pair of scores),
    ``x_weights``, ``y_weights``, ``x_scores``, ``y_scores`` (sklearn centres the views; ranks pairs by |ρ|)."""
    sk = sklearn()
    with single_thread(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Maximum number of iterations reached")
        m = sk.cross_decomposition.CCA(n_components=k, scale=False, max_iter=100000, tol=CCA_TOL)
        m.fit(to_numpy(x1), to_numpy(x2))
    xs, ys = m.transform(to_numpy(x1), to_numpy(x2))
    rho = np.array([np.corrcoef(xs[:, i], ys[:, i])[0, 1] for i in range(k)])
    return {"rho": rho, "x_weights": m.x_weights_, "y_weights": m.y_weights_, "x_scores": xs, "y_scores": ys}


def pencil(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``scipy.linalg.eigh(a, b)``: ascending eigenvalues of ``a v = μ b v`` and B-orthonormal eigenvectors
    (the first ``k`` when given)."""
    from scipy.linalg import eigh

    with single_thread():
        mu, v = eigh(to_numpy(a), to_numpy(b), subset_by_index=None if k is None else [0, k - 1])
    return mu, v


def davis_kahan(n: int, norm: float, gap: float) -> float:
    """Largest principal angle allowed between two backward-stable eigensolvers' K-subspaces of an ``n × n``
    symmetric matrix of norm ``norm`` with eigengap ``gap`` after the K-th eigenvalue: each solver is exact for a
    matrix moved by ``‖E‖ ≤ SAFETY·n·eps·norm`` (Higham §3.1 applied to its reductions), so each subspace moves by
    ``sin θ ≤ ‖E‖/gap`` (Davis–Kahan), and the two sides add: ``2·SAFETY·n·eps·norm/gap``."""
    return 2 * float(tol.sum_of_products(torch.float64, n, norm)) / gap


def residual_angle(m: torch.Tensor | np.ndarray, basis: np.ndarray, gap: float) -> float:
    """A-posteriori bound on the angle between ``span(basis)`` and the true invariant subspace of the symmetric
    ``m`` it approximates: with Q an orthonormal basis and ``R = MQ − Q(QᵀMQ)``, Davis–Kahan's residual form gives
    ``sin θ ≤ ‖R‖₂/(gap − ‖R‖₂)``. It certifies an iterative oracle (ARPACK stops on a Ritz estimate, not the true
    residual: measured up to ~100× above a direct solver's rounding) without trusting it; it refuses (InvalidArgument)
    an oracle answer with ``‖R‖₂ > √eps·‖M‖``: not converged, or not an invariant subspace of ``m`` at all."""
    a = to_numpy(m)
    q, _ = np.linalg.qr(full_rank(basis, "oracle basis"))
    r = a @ q - q @ (q.T @ a @ q)
    res, norm = float(np.linalg.norm(r, 2)), float(np.linalg.norm(a, 2))
    if res > np.sqrt(tol.eps(torch.float64)) * max(norm, 1e-300):
        raise InvalidArgument(f"the oracle's basis is not an invariant subspace of the matrix (‖R‖₂ = {res:.3g}, "
                              f"‖M‖ = {norm:.3g}): the oracle did not converge or solved another problem")
    return res / max(gap - res, 1e-300)
