"""Count models for event series: Poisson, NB2, zero-inflated, hurdle; overdispersion test.

Two layers:

* ``nb2_mle`` / ``poisson_mle``: small hand-rolled maximum-likelihood fits (analytic gradient and
  Hessian, scipy optimiser) used in the hot loops of :mod:`analysis.growth` (profiles,
  change-point scans, simulation studies) where a statsmodels fit per call would cost too much.
  Tests cross-check them against statsmodels.
* ``fit_poisson``, ``fit_nb2``, ``fit_zip``, ``fit_zinb``, ``fit_hurdle_nb``: statsmodels fits
  behind one function each, returning a frozen :class:`CountFit`. ``compare_models`` tabulates
  them; ``overdispersion_test`` is the Cameron-Trivedi regression test;
  ``region_count_models`` runs all of it on regions of a panel for the methods appendix.

Degenerate data never crashes and never yields a silent wrong number. The documented fallbacks:

* all counts zero: no model has a finite MLE. The result has ``model='exact'``, fitted values 0,
  NaN parameters, and the warning gives the exact one-sided 95% upper bound for the mean
  (``-log(0.05)/n``, the "rule of three").
* fewer than 3 non-zero observations or fewer observations than parameters + 2: the dispersion
  (and any zero-inflation) is not identified; the fit falls back to Poisson with a warning.
* zero-inflated or hurdle model on data without zeros: the zero part is not identified; falls back
  to the plain count model (Poisson or NB2) with a warning.
* non-convergence: the statsmodels result is returned with ``converged=False`` and a warning;
  callers must check ``converged``.

statsmodels is imported lazily, inside the functions that need it, because importing it costs
about two seconds and report notebooks import :mod:`analysis.growth` which uses only the fast path.
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import special, stats

__all__ = [
    "CountFit",
    "NB2Fit",
    "OverdispersionTest",
    "compare_models",
    "fit_hurdle_nb",
    "fit_nb2",
    "fit_poisson",
    "fit_zinb",
    "fit_zip",
    "nb2_loglik",
    "nb2_mle",
    "overdispersion_test",
    "poisson_mle",
    "region_count_models",
]

# log(alpha) is kept in this box: below the lower edge the NB2 is numerically Poisson, above the
# upper edge (variance = mu + 400 mu^2) a monthly count series carries no information anyway.
_LOG_ALPHA_MIN = np.log(1e-8)
_LOG_ALPHA_MAX = np.log(400.0)


# --------------------------------------------------------------------------------------------
# Fast maximum likelihood
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NB2Fit:
    """Maximum-likelihood NB2 (or Poisson when ``alpha == 0``) fit of ``log mu = X b + offset``.

    Attributes
    ----------
    params : ndarray
        Regression coefficients ``b``.
    alpha : float
        NB2 dispersion (variance ``mu + alpha mu^2``); 0 for a Poisson fit or when the MLE sits on
        the Poisson boundary.
    cov : ndarray
        Inverse observed information of ``b`` (alpha profiled out when interior).
    llf : float
        Maximised log-likelihood.
    converged : bool
        Whether the optimiser reported success and the gradient is small.
    boundary : bool
        True when the dispersion MLE is on the Poisson boundary (``alpha -> 0``).
    """

    params: np.ndarray
    alpha: float
    cov: np.ndarray
    llf: float
    converged: bool
    boundary: bool
    nobs: int

    def bse(self) -> np.ndarray:
        """Standard errors of the coefficients."""
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))


def nb2_loglik(y: np.ndarray, mu: np.ndarray, alpha: float) -> float:
    """NB2 log-likelihood of counts ``y`` with means ``mu`` and dispersion ``alpha`` (0 = Poisson).

    Parameters
    ----------
    y, mu : ndarray
        Counts and their means (same shape).
    alpha : float
        Dispersion, ``Var = mu + alpha mu^2``.

    Returns
    -------
    float
    """
    y = np.asarray(y, dtype=float)
    mu = np.asarray(mu, dtype=float)
    if alpha <= 0:
        return float(np.sum(special.xlogy(y, mu) - mu - special.gammaln(y + 1)))
    r = 1.0 / alpha
    return float(
        np.sum(
            special.gammaln(y + r)
            - special.gammaln(r)
            - special.gammaln(y + 1)
            + r * np.log(r / (r + mu))
            + special.xlogy(y, mu / (r + mu))
        )
    )


def _design(y: np.ndarray, X: np.ndarray | None, offset: np.ndarray | None):
    y = np.asarray(y, dtype=float)
    if y.ndim != 1:
        raise ValueError(f"expected a 1-d array of counts, got shape {y.shape}")
    if np.any(y < 0) or not np.all(np.isfinite(y)):
        raise ValueError("expected non-negative finite counts")
    X = np.ones((y.size, 1)) if X is None else np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.shape[0] != y.size:
        raise ValueError(f"expected X with {y.size} rows, got {X.shape[0]}")
    off = np.zeros(y.size) if offset is None else np.asarray(offset, dtype=float)
    return y, X, off


def _newton(y, X, off, start=None, max_iter=100, alpha=0.0):
    """Newton-Raphson for the log-linear coefficients with the NB2 dispersion held at ``alpha``
    (0: Poisson), each step halved until the likelihood rises (it is concave in the
    coefficients); returns (b, llf, observed information, converged)."""
    if start is None:
        b = np.zeros(X.shape[1])
        # Start the intercept-like direction at log(mean) so Newton begins near the answer.
        b, *_ = np.linalg.lstsq(X, np.full(y.size, np.log(max(y.mean(), 1e-3))) - off, rcond=None)
    else:
        b = np.array(start, dtype=float)

    def kernel(mu):  # the log-likelihood up to a constant in the coefficients
        if alpha == 0.0:
            return np.sum(special.xlogy(y, mu) - mu)
        return nb2_loglik(y, mu, alpha)

    converged = False
    for _ in range(max_iter):
        mu = np.exp(np.clip(X @ b + off, -50, 50))
        grad = X.T @ ((y - mu) / (1 + alpha * mu))
        info = (X * (mu * (1 + alpha * y) / (1 + alpha * mu) ** 2)[:, None]).T @ X
        try:
            step = np.linalg.solve(info + 1e-12 * np.eye(X.shape[1]), grad)
        except np.linalg.LinAlgError:
            break
        llf_old = kernel(mu)
        t = 1.0
        for _h in range(30):
            b_new = b + t * step
            if kernel(np.exp(np.clip(X @ b_new + off, -50, 50))) >= llf_old - 1e-10:
                break
            t /= 2
        b = b_new
        if np.max(np.abs(t * step)) < 1e-9:
            converged = True
            break
    mu = np.exp(np.clip(X @ b + off, -50, 50))
    info = (X * (mu * (1 + alpha * y) / (1 + alpha * mu) ** 2)[:, None]).T @ X
    return b, nb2_loglik(y, mu, alpha), info, converged


def nb2_fixed_dispersion_llf(
    y: np.ndarray,
    X: np.ndarray,
    alpha: float,
    offset: np.ndarray | None = None,
    *,
    start: np.ndarray | None = None,
) -> float:
    """Largest NB2 log-likelihood over the coefficients with the dispersion held at ``alpha``.

    The profile of one coefficient with the dispersion fixed, as sandwich-based intervals read
    on the likelihood need it (:mod:`analysis.growth.trends`).

    Parameters
    ----------
    y : ndarray
        Counts (1-d).
    X : ndarray
        Design matrix.
    alpha : float
        NB2 dispersion (0: Poisson).
    offset : ndarray, optional
        Offset of the linear predictor (e.g. a fixed coefficient times its column).
    start : ndarray, optional
        Starting coefficients.

    Returns
    -------
    float
    """
    y, X, off = _design(y, X, offset)
    return float(_newton(y, X, off, start=start, alpha=float(alpha))[1])


def poisson_mle(
    y: np.ndarray, X: np.ndarray | None = None, offset: np.ndarray | None = None
) -> NB2Fit:
    """Poisson log-linear MLE by Newton-Raphson (the ``alpha = 0`` member of :func:`nb2_mle`).

    Parameters
    ----------
    y : ndarray
        Counts.
    X : ndarray, optional
        Design matrix (default: intercept only).
    offset : ndarray, optional
        Log-exposure offset.

    Returns
    -------
    NB2Fit
        With ``alpha = 0`` and ``boundary = True``.
    """
    y, X, off = _design(y, X, offset)
    b, llf, info, conv = _newton(y, X, off)
    cov = _safe_inv(info)
    return NB2Fit(b, 0.0, cov, llf, conv and np.all(np.isfinite(b)), True, y.size)


def _safe_inv(m: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(m)
    except np.linalg.LinAlgError:
        return np.full_like(m, np.nan)


def _nb2_parts(theta, y, X, off, need_hess=True):
    """Negative log-likelihood, gradient and Hessian in (b, phi = log alpha)."""
    b, phi = theta[:-1], theta[-1]
    eta = np.clip(X @ b + off, -50, 50)
    mu = np.exp(eta)
    r = np.exp(-phi)
    rm = r + mu
    ll = np.sum(
        special.gammaln(y + r) - special.gammaln(r) + r * np.log(r / rm) + special.xlogy(y, mu / rm)
    )
    d_eta = r * (y - mu) / rm
    d_r = special.digamma(y + r) - special.digamma(r) + np.log(r / rm) + 1.0 - (r + y) / rm
    g = np.empty(theta.size)
    g[:-1] = X.T @ d_eta
    g[-1] = -r * np.sum(d_r)
    if not need_hess:
        return -ll, -g, None
    h_eta = -r * mu * (r + y) / rm**2
    h_rr = (
        special.polygamma(1, y + r)
        - special.polygamma(1, r)
        + 1.0 / r
        - 1.0 / rm
        - (mu - y) / rm**2
    )
    h_reta = mu * (y - mu) / rm**2
    H = np.empty((theta.size, theta.size))
    H[:-1, :-1] = (X * h_eta[:, None]).T @ X
    H[:-1, -1] = H[-1, :-1] = X.T @ (-r * h_reta)
    H[-1, -1] = r**2 * np.sum(h_rr) + r * np.sum(d_r)
    return -ll, -g, -H


def nb2_mle(
    y: np.ndarray,
    X: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    *,
    start: np.ndarray | None = None,
) -> NB2Fit:
    """NB2 log-linear maximum likelihood with analytic derivatives (milliseconds per fit).

    Maximises over ``(b, log alpha)`` by damped Newton steps from the Poisson fit and a moment
    estimate of alpha, with ``log alpha`` kept in ``[log 1e-8, log 400]``. When the profile
    likelihood of alpha is maximised at the Poisson boundary, the Poisson fit is returned with
    ``boundary=True`` (a correct MLE, not a failure).

    Parameters
    ----------
    y : ndarray
        Counts (1-d).
    X : ndarray, optional
        Design matrix; default intercept only.
    offset : ndarray, optional
        Log-exposure offset.
    start : ndarray, optional
        Starting coefficients (used in profile loops to warm-start).

    Returns
    -------
    NB2Fit
    """
    y, X, off = _design(y, X, offset)
    pois = _newton(y, X, off, start=start)
    b0 = pois[0]
    mu = np.exp(np.clip(X @ b0 + off, -50, 50))
    # Poisson boundary check: the score for alpha at alpha = 0 is sum((y-mu)^2 - y)/2; when it is
    # not positive the profile likelihood decreases in alpha, so the MLE is alpha = 0.
    score0 = np.sum((y - mu) ** 2 - y)
    if score0 <= 0 or np.all(y == 0):
        cov = _safe_inv(pois[2])
        return NB2Fit(b0, 0.0, cov, pois[1], pois[3], True, y.size)
    a0 = max(score0 / max(np.sum(mu**2), 1e-12), 1e-3)
    theta = np.append(b0, np.clip(np.log(a0), _LOG_ALPHA_MIN + 1, _LOG_ALPHA_MAX - 1))
    f, g, H = _nb2_parts(theta, y, X, off)
    converged = False
    for _ in range(200):
        # Newton step on the minimisation problem; fall back to a regularised step when the
        # Hessian is not positive definite (far from the optimum).
        try:
            L = np.linalg.cholesky(H)
            step = -np.linalg.solve(L.T, np.linalg.solve(L, g))
        except np.linalg.LinAlgError:
            lam = abs(np.min(np.linalg.eigvalsh(H))) + 1.0
            step = -np.linalg.solve(H + lam * np.eye(H.shape[0]), g)
        t = 1.0
        for _h in range(40):
            cand = theta + t * step
            cand[-1] = np.clip(cand[-1], _LOG_ALPHA_MIN, _LOG_ALPHA_MAX)
            f_new = _nb2_parts(cand, y, X, off, need_hess=False)[0]
            if np.isfinite(f_new) and f_new <= f + 1e-4 * t * (g @ step):
                break
            t /= 2
        else:
            cand = theta
            f_new = f
        moved = np.max(np.abs(cand - theta))
        theta = cand
        f, g, H = _nb2_parts(theta, y, X, off)
        if moved < 1e-10 or np.max(np.abs(g[:-1])) < 1e-8 * max(1.0, y.sum()):
            converged = bool(np.max(np.abs(g[:-1])) < 1e-5 * max(1.0, np.sqrt(y.sum())))
            if converged:
                break
    at_lower = theta[-1] <= _LOG_ALPHA_MIN + 1e-6
    if at_lower:
        cov = _safe_inv(pois[2])
        return NB2Fit(b0, 0.0, cov, pois[1], pois[3], True, y.size)
    b = theta[:-1]
    cov_full = _safe_inv(H)
    alpha = float(np.exp(theta[-1]))
    mu = np.exp(np.clip(X @ b + off, -50, 50))
    llf = nb2_loglik(y, mu, alpha)
    grad_ok = np.max(np.abs(g[:-1])) < 1e-4 * max(1.0, np.sqrt(y.sum()))
    return NB2Fit(b, alpha, cov_full[:-1, :-1], llf, bool(converged or grad_ok), False, y.size)


# --------------------------------------------------------------------------------------------
# statsmodels-backed fits with a frozen result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountFit:
    """Frozen summary of one count-model fit.

    Attributes
    ----------
    model : str
        ``'poisson'``, ``'nb2'``, ``'zip'``, ``'zinb'``, ``'hurdle_nb'``, or ``'exact'`` (the
        all-zeros fallback). When a fallback was used, ``requested`` names the model asked for.
    params : pandas.Series
        Estimated parameters (names from statsmodels).
    conf_int : pandas.DataFrame
        Wald intervals, columns ``low`` and ``high``.
    llf, aic, bic : float
    fitted : ndarray
        Fitted means of the counts.
    converged : bool
    warnings : tuple of str
        Everything the user must know (fallbacks, convergence, identifiability).
    """

    model: str
    requested: str
    params: pd.Series
    conf_int: pd.DataFrame
    llf: float
    aic: float
    bic: float
    fitted: np.ndarray
    converged: bool
    nobs: int
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def fallback(self) -> bool:
        """True when a different model than requested was fitted."""
        return self.model != self.requested


def _prep(y, X, offset):
    y = np.asarray(y, dtype=float)
    if y.ndim != 1 or y.size == 0:
        raise ValueError("expected a non-empty 1-d array of counts")
    if np.any(y < 0) or not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
        raise ValueError("expected non-negative integer counts")
    if X is None:
        X = pd.DataFrame({"const": np.ones(y.size)})
    elif not isinstance(X, pd.DataFrame):
        X = np.asarray(X, dtype=float)
        X = X[:, None] if X.ndim == 1 else X
        X = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    if len(X) != y.size:
        raise ValueError(f"expected X with {y.size} rows, got {len(X)}")
    off = None if offset is None else np.asarray(offset, dtype=float)
    return y, X, off


def _all_zero_result(requested: str, y: np.ndarray, X: pd.DataFrame) -> CountFit:
    n = y.size
    upper = -np.log(0.05) / n
    msg = (
        f"all {n} counts are zero: no count model has a finite MLE; fitted mean set to 0 "
        f"(exact one-sided 95% upper bound for the mean per observation: {upper:.3g})"
    )
    params = pd.Series(np.nan, index=list(X.columns))
    ci = pd.DataFrame({"low": np.nan, "high": np.nan}, index=params.index)
    return CountFit(
        "exact", requested, params, ci, 0.0, np.nan, np.nan, np.zeros(n), True, n, (msg,)
    )


def _identification_problem(y: np.ndarray, X: pd.DataFrame, extra: int) -> str | None:
    nonzero = int(np.sum(y > 0))
    k = X.shape[1] + extra
    if nonzero < 3:
        return f"only {nonzero} non-zero count(s)"
    if y.size < k + 2:
        return f"only {y.size} observations for {k} parameters"
    return None


def _from_statsmodels(model_name, requested, res, y, extra_warnings=()) -> CountFit:
    # statsmodels computes llf, AIC, BIC, standard errors and predictions lazily, on first
    # access here; their numerical warnings (log of a non-positive dispersion at a boundary)
    # would reach the rendered reports' output cells instead of this fit's warnings
    with np.errstate(all="ignore"), _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        return _count_fit(model_name, requested, res, y, extra_warnings)


def _count_fit(model_name, requested, res, y, extra_warnings) -> CountFit:
    params = pd.Series(np.asarray(res.params), index=list(res.model.exog_names) + _extra_names(res))
    ci = np.asarray(res.conf_int())
    conf = pd.DataFrame({"low": ci[:, 0], "high": ci[:, 1]}, index=params.index)
    converged = (
        bool(res.mle_retvals.get("converged", True)) if hasattr(res, "mle_retvals") else True
    )
    warn = list(extra_warnings)
    if not converged:
        warn.append(f"{model_name}: optimiser did not converge; estimates are not reliable")
    if not np.all(np.isfinite(np.asarray(res.bse))):
        warn.append(f"{model_name}: some standard errors are not finite (weakly identified)")
    fitted = np.asarray(res.predict(which="mean") if model_name != "poisson" else res.predict())
    return CountFit(
        model_name,
        requested,
        params,
        conf,
        float(res.llf),
        float(res.aic),
        float(res.bic),
        fitted,
        converged,
        y.size,
        tuple(warn),
    )


def _extra_names(res) -> list[str]:
    names = list(res.model.exog_names)
    return [f"extra{i}" for i in range(len(res.params) - len(names))]


def _fit_sm(make, name, requested, y, extra_warnings=()):
    with _warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        _warnings.simplefilter("always")
        model = make()
        res = model.fit(disp=0, maxiter=500)
    msgs = list(extra_warnings)
    for w in caught:
        if (
            issubclass(w.category, (RuntimeWarning, UserWarning))
            or "Convergence" in type(w.message).__name__
        ):
            text = str(w.message).splitlines()[0]
            if text and text not in msgs:
                msgs.append(f"{name}: {text}")
    return _from_statsmodels(name, requested, res, y, msgs)


def fit_poisson(
    y: ArrayLike, X: ArrayLike | None = None, offset: ArrayLike | None = None
) -> CountFit:
    """Poisson regression (statsmodels ``Poisson``).

    Parameters
    ----------
    y : array-like
        Non-negative integer counts.
    X : DataFrame or ndarray, optional
        Design matrix including a constant column; default intercept only.
    offset : array-like, optional
        Log exposure.

    Returns
    -------
    CountFit
        ``model='exact'`` with a warning when all counts are zero.
    """
    y, X, off = _prep(y, X, offset)
    if np.all(y == 0):
        return _all_zero_result("poisson", y, X)
    from statsmodels.discrete.discrete_model import Poisson

    return _fit_sm(lambda: Poisson(y, X, offset=off), "poisson", "poisson", y)


def fit_nb2(y: ArrayLike, X: ArrayLike | None = None, offset: ArrayLike | None = None) -> CountFit:
    """Negative binomial NB2 regression (statsmodels ``NegativeBinomial``, NB2 likelihood).

    Falls back to Poisson (with a warning) when the dispersion is not identified (fewer than 3
    non-zero counts or too few observations); see the module docstring.

    Parameters
    ----------
    y, X, offset
        As in :func:`fit_poisson`.

    Returns
    -------
    CountFit
        The last parameter is ``alpha``.
    """
    y, X, off = _prep(y, X, offset)
    if np.all(y == 0):
        return _all_zero_result("nb2", y, X)
    problem = _identification_problem(y, X, extra=1)
    if problem:
        return _fell_back(fit_poisson(y, X, offset), "nb2", f"{problem}, dispersion not identified")
    from statsmodels.discrete.discrete_model import NegativeBinomial

    out = _fit_sm(lambda: NegativeBinomial(y, X, loglike_method="nb2", offset=off), "nb2", "nb2", y)
    return _rename_last(out, "alpha")


def _fell_back(res: CountFit, requested: str, reason: str) -> CountFit:
    """``res`` (a simpler model's fit) standing in for ``requested``, with the reason why."""
    model = "Poisson" if res.model == "poisson" else res.model
    msg = f"{requested}: {reason}; fell back to {model}"
    return _replace(res, requested=requested, warnings=(msg, *res.warnings))


def fit_zip(y: ArrayLike, X: ArrayLike | None = None, offset: ArrayLike | None = None) -> CountFit:
    """Zero-inflated Poisson (constant inflation probability, logit link).

    Falls back to Poisson when there are no zeros (inflation not identified).

    Parameters
    ----------
    y, X, offset
        As in :func:`fit_poisson`.

    Returns
    -------
    CountFit
        The ZIP fit, or the Poisson fallback's (``requested='zip'``, the reason in
        ``warnings``); ``model='exact'`` when all counts are zero.
    """
    y, X, off = _prep(y, X, offset)
    if np.all(y == 0):
        return _all_zero_result("zip", y, X)
    if not np.any(y == 0):
        return _fell_back(
            fit_poisson(y, X, offset), "zip", "no zero counts, zero-inflation not identified"
        )
    problem = _identification_problem(y, X, extra=1)
    if problem:
        return _fell_back(
            fit_poisson(y, X, offset), "zip", f"{problem}, zero-inflation not identified"
        )
    from statsmodels.discrete.count_model import ZeroInflatedPoisson

    return _fit_sm(lambda: ZeroInflatedPoisson(y, X, offset=off), "zip", "zip", y)


def fit_zinb(y: ArrayLike, X: ArrayLike | None = None, offset: ArrayLike | None = None) -> CountFit:
    """Zero-inflated NB2 (constant inflation probability).

    Falls back to NB2 when there are no zeros, and to Poisson when too little data.

    Parameters
    ----------
    y, X, offset
        As in :func:`fit_poisson`.

    Returns
    -------
    CountFit
        The ZINB fit (last parameter ``alpha``), or a fallback's (NB2, ZIP or Poisson, with
        ``requested='zinb'`` and the reason in ``warnings``); ``model='exact'`` when all counts
        are zero.
    """
    y, X, off = _prep(y, X, offset)
    if np.all(y == 0):
        return _all_zero_result("zinb", y, X)
    if not np.any(y == 0):
        return _fell_back(
            fit_nb2(y, X, offset), "zinb", "no zero counts, zero-inflation not identified"
        )
    problem = _identification_problem(y, X, extra=2)
    if problem:
        return _fell_back(
            fit_poisson(y, X, offset), "zinb", f"{problem}, dispersion/inflation not identified"
        )
    from statsmodels.discrete.count_model import ZeroInflatedNegativeBinomialP

    out = _fit_sm(lambda: ZeroInflatedNegativeBinomialP(y, X, offset=off, p=2), "zinb", "zinb", y)
    inflation = float(special.expit(out.params.iloc[0]))
    if not (out.converged and np.isfinite(out.llf)) or inflation < _BOUNDARY_INFLATION:
        # ZINB has two boundaries, and a fit that stalls is on one of them. Inflation at 0
        # (its logit to -infinity): the likelihood is NB2's and its Hessian singular (Mopti,
        # real UCDP data: an empty row with raw warnings). Dispersion at 0: it is ZIP's, where
        # the zeros are structural and the rest Poisson (35% structural zeros had "fallen back
        # to NB2", 92 AIC points behind ZIP). The better of the two stands in for it.
        nb2 = fit_nb2(y, X, offset)
        zip_fit = fit_zip(y, X, offset)
        if zip_fit.model == "zip" and zip_fit.llf > nb2.llf:
            best, why = zip_fit, "no overdispersion beyond the zeros (its dispersion is at 0)"
        else:
            best, why = nb2, "no zero-inflation found (its probability is at 0)"
        if not np.isfinite(out.llf) or out.llf <= best.llf + 1e-6:
            return _fell_back(best, "zinb", why)
    return _rename_last(out, "alpha")


#: Below this zero-inflation probability a ZINB fit is on the boundary (it is NB2).
_BOUNDARY_INFLATION = 1e-4


def fit_hurdle_nb(
    y: ArrayLike, X: ArrayLike | None = None, offset: ArrayLike | None = None
) -> CountFit:
    """Hurdle model: logit-like zero part (Poisson zero hurdle) and zero-truncated NB2 counts.

    Uses statsmodels ``HurdleCountModel(dist='negbin', zerodist='poisson')``. Falls back to NB2
    when there are no zeros, and to Poisson when too few positive counts.

    Parameters
    ----------
    y, X, offset
        As in :func:`fit_poisson`.

    Returns
    -------
    CountFit
        The hurdle fit, or a fallback's (NB2 or Poisson, with ``requested='hurdle_nb'`` and the
        reason in ``warnings``); ``model='exact'`` when all counts are zero.
    """
    y, X, off = _prep(y, X, offset)
    if np.all(y == 0):
        return _all_zero_result("hurdle_nb", y, X)
    if not np.any(y == 0):
        return _fell_back(
            fit_nb2(y, X, offset), "hurdle_nb", "no zero counts, hurdle not identified"
        )
    problem = _identification_problem(y, X, extra=2)
    if problem or np.sum(y > 1) < 2:
        problem = problem or "fewer than 2 counts above 1"
        return _fell_back(
            fit_poisson(y, X, offset), "hurdle_nb", f"{problem}, truncated NB not identified"
        )
    from statsmodels.discrete.truncated_model import HurdleCountModel

    with _warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        _warnings.simplefilter("always")
        model = HurdleCountModel(y, X, offset=off, dist="negbin", zerodist="poisson", p=2)
        res = model.fit(disp=0, maxiter=500)
    msgs = [f"hurdle_nb: {str(w.message).splitlines()[0]}" for w in caught]
    params = pd.Series(np.asarray(res.params), index=list(res.model.exog_names))
    with np.errstate(all="ignore"), _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        ci = np.asarray(res.conf_int())
    conf = pd.DataFrame({"low": ci[:, 0], "high": ci[:, 1]}, index=params.index)
    conv = bool(
        res.results_zero.mle_retvals.get("converged", True)
        and res.results_count.mle_retvals.get("converged", True)
    )
    if not conv:
        msgs.append("hurdle_nb: optimiser did not converge; estimates are not reliable")
    fitted = np.asarray(res.predict(which="mean"))
    return CountFit(
        "hurdle_nb",
        "hurdle_nb",
        params,
        conf,
        float(res.llf),
        float(res.aic),
        float(res.bic),
        fitted,
        conv,
        y.size,
        tuple(dict.fromkeys(msgs)),
    )


def _replace(res: CountFit, **changes) -> CountFit:
    from dataclasses import replace

    return replace(res, **changes)


def _rename_last(res: CountFit, name: str) -> CountFit:
    idx = list(res.params.index)
    idx[-1] = name
    params = res.params.copy()
    params.index = idx
    ci = res.conf_int.copy()
    ci.index = idx
    return _replace(res, params=params, conf_int=ci)


# --------------------------------------------------------------------------------------------
# Overdispersion and comparison
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdispersionTest:
    """Cameron-Trivedi (1990) regression test of ``Var = mu`` against ``Var = mu + alpha mu^2``.

    ``alpha`` is the OLS slope of ``((y - mu)^2 - y) / mu`` on ``mu`` (no intercept), ``se``
    its standard error; the test is one-sided (``alpha > 0``), with a t reference distribution
    on ``n - 1`` df.
    """

    alpha: float
    statistic: float
    p_value: float
    nobs: int
    se: float = np.nan


def overdispersion_test(y: ArrayLike, mu: ArrayLike) -> OverdispersionTest:
    """Cameron-Trivedi overdispersion test against the fitted Poisson means ``mu``.

    Parameters
    ----------
    y : array-like
        Counts.
    mu : array-like
        Fitted Poisson means (e.g. ``fit_poisson(y, X).fitted``).

    Returns
    -------
    OverdispersionTest
        NaN statistic and p-value (never a fake number) when fewer than 3 observations or all
        means are zero.
    """
    y = np.asarray(y, dtype=float)
    mu = np.asarray(mu, dtype=float)
    ok = mu > 0
    n = int(ok.sum())
    if n < 3:
        return OverdispersionTest(np.nan, np.nan, np.nan, n)
    z = ((y[ok] - mu[ok]) ** 2 - y[ok]) / mu[ok]
    x = mu[ok]
    alpha = float(x @ z / (x @ x))
    resid = z - alpha * x
    s2 = resid @ resid / (n - 1)
    se = np.sqrt(s2 / (x @ x))
    stat = alpha / se if se > 0 else np.inf * np.sign(alpha)
    p = float(stats.t.sf(stat, df=n - 1))
    return OverdispersionTest(alpha, float(stat), p, n, float(se))


def compare_models(
    y: ArrayLike,
    X: ArrayLike | None = None,
    offset: ArrayLike | None = None,
    models: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Fit several count models and tabulate log-likelihood and information criteria.

    Parameters
    ----------
    y, X, offset
        As in :func:`fit_poisson`.
    models : sequence of str, optional
        Subset of ``('poisson', 'nb2', 'zip', 'zinb', 'hurdle_nb')`` (default all).

    Returns
    -------
    DataFrame
        One row per requested model, sorted by AIC, columns ``model``, ``fitted_model``, ``k``,
        ``llf``, ``aic``, ``bic``, ``delta_aic``, ``converged``, ``warnings``. Fallback rows keep
        the fitted model's numbers and say so in ``fitted_model`` and ``warnings``.
    """
    fitters = {
        "poisson": fit_poisson,
        "nb2": fit_nb2,
        "zip": fit_zip,
        "zinb": fit_zinb,
        "hurdle_nb": fit_hurdle_nb,
    }
    names = list(models or fitters)
    unknown = [m for m in names if m not in fitters]
    if unknown:
        raise ValueError(f"expected models among {sorted(fitters)}, got {unknown}")
    rows = []
    for name in names:
        res = fitters[name](y, X, offset)
        rows.append(
            {
                "model": name,
                "fitted_model": res.model,
                "k": int(res.params.size),
                "llf": res.llf,
                "aic": res.aic,
                "bic": res.bic,
                "converged": res.converged,
                "warnings": "; ".join(res.warnings),
            }
        )
    table = pd.DataFrame(rows).sort_values("aic", kind="stable", na_position="last")
    table.insert(5, "delta_aic", table["aic"] - table["aic"].min())
    return table.reset_index(drop=True)


def _boundary_lr(llf_big: float, llf_small: float) -> tuple[float, float]:
    """LR statistic and p-value for one extra parameter on the boundary of its space.

    Under the null (dispersion or zero-inflation 0) the statistic is a 50:50 mixture of a point
    mass at 0 and chi2_1 (Self & Liang 1987), so the p-value is half the chi2_1 tail.
    """
    if not (np.isfinite(llf_big) and np.isfinite(llf_small)):
        return np.nan, np.nan
    stat = max(0.0, 2.0 * (llf_big - llf_small))
    return stat, (1.0 if stat == 0.0 else float(0.5 * stats.chi2.sf(stat, 1)))


def region_count_models(
    panel: pd.DataFrame,
    regions: Sequence[str],
    *,
    trend: bool = True,
    models: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Count models fitted to each region's series, with the tests that choose among them.

    For each region: Poisson, NB2, zero-inflated Poisson and NB, and hurdle NB fits of the
    monthly (or quarterly) counts on an intercept and, with ``trend``, a linear trend in years;
    AIC and BIC; the Cameron-Trivedi overdispersion test against the Poisson fit; and
    likelihood-ratio tests of the nested pairs: NB2 against Poisson (overdispersion), ZIP
    against Poisson and ZINB against NB2 (zero inflation: a constant inflation probability of
    0 gives the smaller model). The extra parameter is on its boundary under the null, so the
    p-value is half the chi2_1 tail. The hurdle model, whose zero part has its own trend, is
    nested in none of them and is compared by AIC and BIC only.

    Parameters
    ----------
    panel : DataFrame
        Zero-filled panel (docs/internals.md) with ``region_id``, ``region_name``, ``period``,
        ``events``.
    regions : sequence of str
        Region ids (e.g. the study's focus).
    trend : bool
    models : sequence of str, optional
        As in :func:`compare_models` (default all five).

    Returns
    -------
    DataFrame
        One row per region and model: ``region_id, region_name, n, events, zeros`` (share of
        periods without events), ``model, fitted_model, k, llf, aic, bic, delta_aic,
        lr_against, lr_stat, lr_p, overdispersion_alpha, overdispersion_se, overdispersion_p,
        converged, warnings`` (the overdispersion test is the region's, repeated on its
        rows). Fallbacks (e.g. no zeros for a zero-inflated model) say so in ``fitted_model``
        and ``warnings`` and get no LR test.
    """
    needed = {"region_id", "region_name", "period", "events"}
    missing = needed - set(panel.columns)
    if missing:
        raise ValueError(f"expected panel columns {sorted(needed)}; missing {sorted(missing)}")
    known = set(panel["region_id"].astype(str))
    unknown = [r for r in regions if str(r) not in known]
    if unknown:
        raise ValueError(f"regions not in the panel: {unknown}")
    per_year = 12 if panel.attrs.get("freq", "month") == "month" else 4
    # each model against the one it reduces to on the boundary: zero inflation is tested
    # against the same count model without it (ZINB against ZIP had tested dispersion again,
    # and the text called the zero-inflated models "not nested" in the ones they contain)
    nested = {"nb2": "poisson", "zip": "poisson", "zinb": "nb2"}
    out = []
    for rid in regions:
        rows = panel[panel["region_id"].astype(str) == str(rid)].sort_values("period")
        y = rows["events"].to_numpy(dtype=float)
        t = np.arange(len(y), dtype=float)
        X = pd.DataFrame({"const": np.ones(len(y))})
        if trend:
            X["trend_per_year"] = (t - t.mean()) / per_year
        table = compare_models(y, X, models=models)
        pois = fit_poisson(y, X)
        od = overdispersion_test(y, pois.fitted)
        by_model = table.set_index("model")
        lr = []
        for r in table.itertuples():
            small = nested.get(r.model)
            ok = (
                small is not None
                and small in by_model.index
                and r.fitted_model == r.model
                and by_model.loc[small, "fitted_model"] == small
            )
            stat, p = _boundary_lr(r.llf, by_model.loc[small, "llf"]) if ok else (np.nan, np.nan)
            lr.append((small if ok else "", stat, p))
        table.insert(0, "region_id", str(rid))
        table.insert(1, "region_name", str(rows["region_name"].iloc[0]))
        table.insert(2, "n", len(y))
        table.insert(3, "events", int(y.sum()))
        table.insert(4, "zeros", float(np.mean(y == 0)))
        table["lr_against"] = [a for a, _, _ in lr]
        table["lr_stat"] = [s for _, s, _ in lr]
        table["lr_p"] = [p for _, _, p in lr]
        table["overdispersion_alpha"] = od.alpha
        table["overdispersion_se"] = od.se
        table["overdispersion_p"] = od.p_value
        out.append(table)
    cols = [
        "region_id", "region_name", "n", "events", "zeros", "model", "fitted_model", "k", "llf",
        "aic", "bic", "delta_aic", "lr_against", "lr_stat", "lr_p", "overdispersion_alpha",
        "overdispersion_se", "overdispersion_p", "converged", "warnings",
    ]  # fmt: skip
    if not out:
        return pd.DataFrame(columns=cols)
    return pd.concat(out, ignore_index=True)[cols]
