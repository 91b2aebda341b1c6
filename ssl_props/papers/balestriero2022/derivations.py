"""Sympy derivations behind Balestriero & LeCun (NeurIPS 2022, arXiv:2205.11508).

Each function proves one algebraic step of a closed form (exactly, with sympy) and returns a short
description; it raises ``AssertionError`` with the residual when sympy disagrees. Results are cached.
Orientation: ``Z`` is ``N × K`` (samples × features); ``G`` symmetric with a zero diagonal.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp


def _zero(expr: sp.Expr, what: str) -> None:
    r = sp.expand(expr)
    if r != 0:  # polynomial identities expand to 0; only rational/log ones need simplify
        r = sp.simplify(r)
    if r != 0:
        raise AssertionError(f"sympy: {what} leaves the non-zero residual {sp.sstr(r)[:300]}")


def symmetric_graph(n: int) -> sp.Matrix:
    """Symbolic symmetric ``G`` with zero diagonal."""
    return sp.Matrix(n, n, lambda i, j: 0 if i == j else sp.Symbol(f"g_{min(i, j)}{max(i, j)}", real=True))


def general_graph(n: int) -> sp.Matrix:
    """Symbolic ``G`` with zero diagonal and independent ``G_ij``, ``G_ji``."""
    return sp.Matrix(n, n, lambda i, j: 0 if i == j else sp.Symbol(f"g_{i}{j}", real=True))


def symbolic_z(n: int, k: int) -> sp.Matrix:
    return sp.Matrix(n, k, lambda i, j: sp.Symbol(f"z_{i}{j}", real=True))


def laplacian(g: sp.Matrix) -> sp.Matrix:
    return sp.diag(*[sum(g.row(i)) for i in range(g.rows)]) - g


def dirichlet(z: sp.Matrix, g: sp.Matrix) -> sp.Expr:
    return sum((g[i, j] * sum((z[i, k] - z[j, k]) ** 2 for k in range(z.cols))
                for i in range(z.rows) for j in range(z.rows)), sp.Integer(0))


@lru_cache(maxsize=None)
def invariance_is_dirichlet_energy(shapes: tuple[tuple[int, int], ...] = ((2, 1), (3, 2), (4, 2))) -> str:
    """``Σ_ij G_ij ‖Z_i − Z_j‖² = 2 tr(Zᵀ L Z)`` for symbolic symmetric ``G`` and ``Z`` of every shape."""
    for n, k in shapes:
        z, g = symbolic_z(n, k), symmetric_graph(n)
        _zero(dirichlet(z, g) - 2 * (z.T * laplacian(g) * z).trace(), f"Dirichlet identity at (N, K) = ({n}, {k})")
    return f"Σ G_ij‖Z_i−Z_j‖² − 2tr(ZᵀLZ) expands to 0 for symmetric symbolic G, (N, K) in {list(shapes)}"


def asymmetric_gap(z: sp.Matrix, g: sp.Matrix) -> sp.Expr:
    """``Σ_i ‖Z_i‖² (Σ_j G_ji − Σ_j G_ij)``: what ``Σ G_ij‖Z_i − Z_j‖² − 2tr(ZᵀLZ)`` is for a general G
    (the j-sum of ``G_ij‖Z_j‖²`` weighs ``‖Z_j‖²`` by column sums, ``L = diag(G1) − G`` by row sums)."""
    return sum((sum(z[i, k] ** 2 for k in range(z.cols)) * (sum(g.col(i)) - sum(g.row(i))) for i in range(z.rows)),
               sp.Integer(0))


@lru_cache(maxsize=None)
def asymmetric_dirichlet_residual() -> sp.Expr:
    """For a general (non-symmetric) G the naive identity leaves the residual ``Σ_i z_i² (col sum_i − row sum_i)``
    (returned, non-zero; checked against that closed form, also for K = 2)."""
    for n, k in ((3, 2), (3, 1)):
        z, g = symbolic_z(n, k), general_graph(n)
        res = sp.expand(dirichlet(z, g) - 2 * (z.T * laplacian(g) * z).trace())
        _zero(res - asymmetric_gap(z, g), f"asymmetric residual = Σ_i ‖Z_i‖²(col_i − row_i) at (N, K) = ({n}, {k})")
    if res == 0:
        raise AssertionError("sympy: the Dirichlet identity holds for a general G (no residual)")
    return res


@lru_cache(maxsize=None)
def vicreg_scalar_problem() -> str:
    """Per eigen-direction, ``φ(t) = β(t/N − 1)² + 2γλ t/N`` over ``t = s² ≥ 0`` is convex with minimiser
    ``t⋆ = N(1 − γλ/β)`` when ``γλ < β`` (and ``t⋆ = 0`` otherwise, since ``φ'(0) = 2(γλ − β)/N ≥ 0``)."""
    t, n, b, c, lam = sp.symbols("t N beta gamma lambda", positive=True)
    phi = b * (t / n - 1) ** 2 + 2 * c * lam * t / n
    sol = sp.solve(sp.diff(phi, t), t)
    if len(sol) != 1:
        raise AssertionError(f"sympy: expected one stationary point, got {sol}")
    _zero(sol[0] - n * (1 - c * lam / b), "stationary point t⋆ = N(1 − γλ/β)")
    _zero(sp.diff(phi, t, 2) - 2 * b / n**2, "second derivative 2β/N²")
    _zero(sp.diff(phi, t).subs(t, 0) - 2 * (c * lam - b) / n, "φ'(0) = 2(γλ − β)/N")
    _zero(phi.subs(t, sol[0]) - (b * (c * lam / b) ** 2 + 2 * c * lam * (1 - c * lam / b)),
          "φ(t⋆) = β(c − 1)² + 2γλc with c = 1 − γλ/β")
    return "φ(t) = β(t/N−1)² + 2γλt/N: unique stationary point N(1−γλ/β), φ'' = 2β/N² > 0, φ'(0) = 2(γλ−β)/N"


@lru_cache(maxsize=None)
def spectral_loss_in_eigenbasis() -> str:
    """For ``Z = √N U diag(√c)`` with ``Uᵀ U = I``, ``U ⟂ 1``, ``L U = U Λ`` (K = 2, symbolic c, λ),
    the spectral VICReg loss equals ``Σ_k β(c_k − 1)² + 2γλ_k c_k``."""
    n, b, c = sp.symbols("N beta gamma", positive=True)
    c1, c2, l1, l2 = sp.symbols("c1 c2 lambda1 lambda2", nonnegative=True)
    cov = sp.diag(c1, c2)  # Zᵀ H Z / N = diag(c) because U ⟂ 1 and UᵀU = I
    inv = 2 * c / n * (n * (c1 * l1 + c2 * l2))  # (2γ/N) tr(Zᵀ L Z) = (2γ/N) N Σ c_k λ_k
    loss = b * sum(((cov - sp.eye(2)) ** 2)) + inv
    _zero(loss - (b * (c1 - 1) ** 2 + b * (c2 - 1) ** 2 + 2 * c * (l1 * c1 + l2 * c2)), "loss in the eigenbasis")
    return "β‖diag(c) − I‖² + (2γ/N)·N Σ c_kλ_k = Σ β(c_k−1)² + 2γλ_k c_k"


@lru_cache(maxsize=None)
def cross_entropy_gibbs(n: int = 3) -> str:
    """``−Σ_j g_j log p_j`` on the simplex: the Lagrange stationary point is ``p = g/Σg`` and
    ``CE(p) − CE(g/Σg) = (Σg) KL(g/Σg ‖ p)`` identically."""
    g = sp.symbols(f"g0:{n}", positive=True)
    p = sp.symbols(f"p0:{n}", positive=True)
    mu = sp.Symbol("mu")
    lag = -sum(gi * sp.log(pi) for gi, pi in zip(g, p)) + mu * (sum(p) - 1)
    sol = sp.solve([sp.diff(lag, pi) for pi in p] + [sum(p) - 1], [*p, mu], dict=True)
    if len(sol) != 1:
        raise AssertionError(f"sympy: expected one stationary point, got {sol}")
    s = sum(g)
    for gi, pi in zip(g, p):
        _zero(sol[0][pi] - gi / s, "stationary point p = g/Σg")
    ce = lambda q: -sum(gi * sp.log(qi) for gi, qi in zip(g, q))  # noqa: E731
    kl = sum(gi / s * sp.log((gi / s) / pi) for gi, pi in zip(g, p))
    _zero(sp.expand_log(ce(p) - ce([gi / s for gi in g]) - s * kl, force=True), "CE gap = (Σg)·KL")
    return f"argmin over the simplex of −Σ g_j log p_j is g/Σg; the gap is (Σg)·KL (n = {n})"


@lru_cache(maxsize=None)
def augmentation_laplacian_spectrum(cases: tuple[tuple[int, int], ...] = ((1, 2), (2, 2), (2, 3), (3, 3))) -> str:
    """``G = (11ᵀ − I_V) ⊗ I_{N'}``: ``L = V·I − 11ᵀ ⊗ I`` has eigenvalues 0 (×N') and V (×N'(V−1))."""
    for ns, nv in cases:
        g = sp.kronecker_product(sp.ones(nv, nv) - sp.eye(nv), sp.eye(ns))
        ev = laplacian(g).eigenvals()
        want = {0: ns, nv: ns * (nv - 1)}
        if ev != want:
            raise AssertionError(f"sympy: spectrum of L for (N', V) = ({ns}, {nv}) is {ev}, expected {want}")
    return f"exact spectrum {{0: N', V: N'(V−1)}} for (N', V) in {list(cases)}"


@lru_cache(maxsize=None)
def barlow_diagonal_is_rayleigh() -> str:
    """For one column ``z`` and symmetric unweighted ``G``: ``1 − C_kk = zᵀLz / zᵀDz`` (pairs listed both ways),
    so ``C_kk = 1`` iff ``z`` is constant on every component."""
    n = 3
    g = sp.Matrix(n, n, lambda i, j: 0 if i == j else 1)  # the triangle; plus one symbolic z
    z = sp.Matrix(n, 1, lambda i, _: sp.Symbol(f"z_{i}", real=True))
    pairs = [(i, j) for i in range(n) for j in range(n) if g[i, j]]
    inner = sum(z[i] * z[j] for i, j in pairs)
    norm_l = sum(z[i] ** 2 for i, _ in pairs)  # = Σ_i deg_i z_i² = ‖Z_right‖² too
    lap = laplacian(g)
    _zero((norm_l - inner) - (z.T * lap * z)[0], "Σ_pairs z_i² − Σ_pairs z_i z_j = zᵀLz")
    _zero(norm_l - (z.T * sp.diag(*[sum(g.row(i)) for i in range(n)]) * z)[0], "Σ_pairs z_i² = zᵀDz")
    return "1 − C_kk = zᵀLz / zᵀDz for the pair-listed cosine (checked on the triangle, symbolic z)"


@lru_cache(maxsize=None)
def linear_network_reduction() -> str:
    """For ``Z = XW`` (checked for X 3×2, W 2×1): ``Cov(Z) = Wᵀ Σ W`` with ``Σ = XᵀHX/N`` and ``tr(ZᵀLZ)/N = tr(Wᵀ M W)`` with ``M = XᵀLX/N``;
    with ``V = Σ^{1/2} W`` the loss becomes the non-parametric one with ``Σ^{-1/2} M Σ^{-1/2}`` in place of ``L``."""
    n, d, k = 3, 2, 1
    x = sp.Matrix(n, d, lambda i, j: sp.Symbol(f"x_{i}{j}", real=True))
    w = sp.Matrix(d, k, lambda i, j: sp.Symbol(f"w_{i}{j}", real=True))
    g = symmetric_graph(n)
    h = sp.eye(n) - sp.ones(n, n) / n
    z = x * w
    mean = sum((z.row(i) for i in range(n)), sp.zeros(1, k)) / n  # Cov(Z) from its definition, not from H
    cov_z = sum(((z.row(i) - mean).T * (z.row(i) - mean) for i in range(n)), sp.zeros(k, k)) / n
    sigma = x.T * h * x / n
    for a, b in zip(cov_z, w.T * sigma * w):
        _zero(a - b, "Cov(XW) = Wᵀ Σ W")
    _zero((z.T * laplacian(g) * z).trace() - (w.T * (x.T * laplacian(g) * x) * w).trace(), "tr(ZᵀLZ) = tr(WᵀXᵀLXW)")
    return "Cov(XW) = WᵀΣW and tr((XW)ᵀL(XW)) = tr(WᵀXᵀLXW) for symbolic X (3×2), W (2×1), symmetric G"


def class_indicators(ns: tuple[int, ...]) -> sp.Matrix:
    """One-hot ``Y`` (N × C) of consecutive classes of sizes ``ns``."""
    return sp.Matrix(sum(ns), len(ns), lambda i, c: 1 if sum(ns[:c]) <= i < sum(ns[: c + 1]) else 0)


@lru_cache(maxsize=None)
def aligned_laplacian_spectrum(sizes: tuple[tuple[int, ...], ...] = ((2, 2), (2, 3), (2, 3, 4))) -> str:
    """``G = YYᵀ − I``: ``L = blockdiag(n_c I − 11ᵀ)`` has eigenvalue 0 (× C, the class indicators) and n_c (× n_c − 1)."""
    for ns in sizes:
        g = sp.diag(*[sp.ones(m, m) - sp.eye(m) for m in ns])
        want: dict = {0: len(ns)}
        for m in ns:
            want[m] = want.get(m, 0) + m - 1
        ev = laplacian(g).eigenvals()
        if ev != want:
            raise AssertionError(f"sympy: spectrum of L for class sizes {ns} is {ev}, expected {want}")
        y = class_indicators(ns)
        if y * sp.ones(len(ns), 1) != sp.ones(sum(ns), 1) or sp.ones(1, sum(ns)) * y != sp.Matrix([list(ns)]):
            raise AssertionError(f"sympy: Y = {y.tolist()} is not the one-hot class matrix of sizes {ns}")
        if g != y * y.T - sp.eye(sum(ns)):
            raise AssertionError(f"sympy: G ≠ YYᵀ − I for class sizes {ns}")
        if laplacian(g) * y != sp.zeros(sum(ns), len(ns)):
            raise AssertionError(f"sympy: class indicators are not in null(L) for sizes {ns}")
        if y.rank() != len(ns):  # with dim null(L) = C (the spectrum, L symmetric): span(Y) = null(L)
            raise AssertionError(f"sympy: rank Y = {y.rank()} ≠ C = {len(ns)}: Y does not span null(L) for sizes {ns}")
    return f"exact spectrum {{0: C, n_c: n_c − 1}}, G = YYᵀ − I and null(L) = span(Y) (rank C) for class sizes {list(sizes)}"


def explicit_j_reduction(a_sq: sp.Expr, v: sp.Symbol, j: sp.Symbol, sizes=(2, 3, 4)) -> None:
    """``a_sq`` (a polynomial in ``J`` reduced with J² = VJ) is ``(J − I)²`` for the explicit all-ones ``J`` of each
    size, and ``(A − (V−1)I)(A + I) = (J − V I) J = 0`` there."""
    for vv in sizes:
        jm, i_v = sp.ones(vv, vv), sp.eye(vv)
        if (jm - i_v) ** 2 != a_sq.subs(v, vv).coeff(j, 1) * jm + a_sq.subs(v, vv).coeff(j, 0) * i_v:
            raise AssertionError(f"sympy: (J − I)² ≠ {a_sq} at V = {vv}")
        if (jm - vv * i_v) * jm != sp.zeros(vv, vv):
            raise AssertionError(f"sympy: (A − (V−1)I)(A + I) ≠ 0 for the explicit V = {vv}")


@lru_cache(maxsize=None)
def augmentation_graph_full_rank() -> str:
    """(11ᵀ − I_V) ⊗ I_N' has eigenvalues V − 1 and −1 (never 0): rank(G) = N = V N' for every V ≥ 2 (erratum E1).

    Proof: 11ᵀ has eigenvalues V (once) and 0, so 11ᵀ − I_V has V − 1 and −1; the Kronecker factor I_N' repeats
    them. Checked symbolically for a general V (J = 11ᵀ, reduced with J² = VJ)."""
    v = sp.Symbol("V", positive=True)
    j = sp.Symbol("J")  # the all-ones V×V matrix, reduced with J² = V J
    # minimal polynomial of A = J − I is (A − (V−1))(A + 1): A² − (V−2)A − (V−1) = J² − 2J + 1 − (V−2)(J − 1) − (V−1)
    a_sq = sp.expand(v * j - 2 * j + 1)  # (J − I)² with J² = V J
    _zero(a_sq - (v - 2) * (j - 1) - (v - 1), "(A − (V−1)I)(A + I) = 0 for A = 11ᵀ − I_V")
    explicit_j_reduction(a_sq, v, j)
    return "A = 11ᵀ − I_V satisfies (A − (V−1)I)(A + I) = 0: eigenvalues V − 1 and −1 only, so G is invertible"


@lru_cache(maxsize=None)
def barlow_rotated_loss() -> str:
    """Barlow Twins (Sec. 2, uncentred column cosines) of Z = [c₁ s₁, c₂ s₂] Q_θ on the V = 2 augmentation graph of
    two images (c_k the component indicators): C_kk = 1 and
    L = 2α [cs (s₂² − s₁²)]² / ((s₁²c² + s₂²s²)(s₁²s² + s₂²c²)),  c = cos θ, s = sin θ (erratum E3)."""
    s1, s2, al = sp.symbols("s1 s2 alpha", positive=True)
    th = sp.Symbol("theta", real=True)
    c, s = sp.cos(th), sp.sin(th)
    z = sp.Matrix([[s1, 0], [0, s2], [s1, 0], [0, s2]]) * sp.Matrix([[c, -s], [s, c]])  # view-major, N' = 2
    rows, cols = [0, 1, 2, 3], [2, 3, 0, 1]  # nnz(G): i ↔ i + N'
    zl, zr = z.extract(rows, [0, 1]), z.extract(cols, [0, 1])
    cc = sp.Matrix(2, 2, lambda a, b: (zl[:, a].dot(zr[:, b])) / sp.sqrt(zl[:, a].dot(zl[:, a]) * zr[:, b].dot(zr[:, b])))
    loss = sum((cc[k, k] - 1) ** 2 for k in range(2)) + al * (cc[0, 1] ** 2 + cc[1, 0] ** 2)
    want = 2 * al * (c * s * (s2**2 - s1**2)) ** 2 / ((s1**2 * c**2 + s2**2 * s**2) * (s1**2 * s**2 + s2**2 * c**2))
    _zero(sp.simplify(loss - want), "Barlow Twins loss of the rotated zero-loss Z")
    return "L_BT(Z Q_θ) = 2α[cs(s₂² − s₁²)]²/((s₁²c² + s₂²s²)(s₁²s² + s₂²c²)): zero for all θ iff s₁ = s₂"
