"""Rescale error model of the paper, Eq. (3)-(5), on real accumulators.

For a layer's accumulators ``a_q`` (int32, one column per output channel) and its
per-channel rescale factors ``M``, the rescale error in units of the output scale
``S_y`` (int8 LSBs) is, for outputs that do not saturate (Eq. (5))::

    eps_r / S_y = (y_k - Zy) - M a_q = a_q (M_q - M) + delta_r
                  '--- total ---'     '-- mult --'   '-- round --'

``mult`` is the multiplier-quantization part (``M_q = m 2^-s`` from
:func:`sim.golden.quantize_multiplier` at width ``k``), exactly known from
``a_q``; ``round`` is what the rescaler's rounding adds (``|delta_r| <= 1/2`` for
the round-to-nearest modes). ``y_k`` is computed by :func:`sim.golden.rescale`,
so the model never re-implements the rescaler. Saturated outputs (the clamp,
fused ReLU6) are excluded from the error parts, as in the paper, and counted.
``changed`` compares the int8 outputs (after the clamp) with those at ``k = 32``.
"""

import functools
import warnings
from dataclasses import dataclass

import numpy as np

from sim import golden
from toolkit.figures import pyplot, save

__all__ = ["RescaleError", "channel_stats", "error_vs_k", "plot_error_vs_k", "rescale_error"]


@dataclass(frozen=True)
class RescaleError:
    """Per-output error terms of one layer at one ``k`` (arrays of the accumulators' shape).

    Members
    -------
    k : int
    mult, rounding, total : numpy.ndarray of float64
        ``a_q (M_q - M)``, ``delta_r`` and their sum, in output LSBs; NaN where the
        output saturated.
    saturated : numpy.ndarray of bool
        The output hit ``act_min`` or ``act_max``.
    changed : numpy.ndarray of bool
        The int8 output differs from the one at ``reference_k``.
    y, y_ref : numpy.ndarray of int8
        Outputs at ``k`` and at ``reference_k``.
    Mq_rel : numpy.ndarray, shape (C,)
        ``(M_q - M) / M`` per channel.
    """

    k: int
    mult: np.ndarray
    rounding: np.ndarray
    total: np.ndarray
    saturated: np.ndarray
    changed: np.ndarray
    y: np.ndarray
    y_ref: np.ndarray
    Mq_rel: np.ndarray


def rescale_error(acc, M, k, *, zero_point=0, act_min=golden.INT8_MIN, act_max=golden.INT8_MAX,
                  rounding="half_up", method="truncate", reference_k=golden.K_MAX):
    """Split the rescale error of accumulators ``acc`` ``(..., C)`` at width ``k`` (see module doc).

    ``M`` ``(C,)`` are the float rescale factors; the other arguments as in
    :func:`sim.golden.rescale` and :func:`sim.golden.quantize_multiplier`.
    """
    acc = np.asarray(acc, dtype=np.int64)
    M64 = np.asarray(M, dtype=np.float64)
    clamp = {"zero_point": zero_point, "act_min": act_min, "act_max": act_max, "rounding": rounding}

    def run(width):
        m, s = golden.quantize_multiplier(M, width, method=method)
        return golden.rescale(acc, m, s, k=width, **clamp), np.ldexp(m.astype(np.float64), -s)

    y, Mq = run(k)
    y_ref, _ = run(reference_k)
    lo, hi = np.broadcast_to(act_min, Mq.shape), np.broadcast_to(act_max, Mq.shape)
    saturated = (y == lo) | (y == hi)
    scaled = acc.astype(np.float64)
    total = np.where(saturated, np.nan, y.astype(np.float64) - zero_point - scaled * M64)
    mult = np.where(saturated, np.nan, scaled * (Mq - M64))
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(M64 > 0, (Mq - M64) / M64, 0.0)
    return RescaleError(k=int(k), mult=mult, rounding=total - mult, total=total, saturated=saturated,
                        changed=y != y_ref, y=y, y_ref=y_ref, Mq_rel=rel)


def _stat(fn, a, axis):
    """``fn`` over ``axis`` ignoring NaN (saturated outputs); NaN for a channel with none left."""
    ok = ~np.isnan(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN channels give NaN, by design
        if fn is np.max:
            return np.where(ok.any(axis=axis), np.max(np.where(ok, a, 0), axis=axis), np.nan)
        return np.nanmean(a, axis=axis)


def channel_stats(err, *, y_scale=1.0):
    """Per-channel statistics of a :class:`RescaleError` (2-d ``(rows, C)``), in LSBs and,
    multiplied by ``y_scale``, in real units (``*_real``).

    Returns a dict of ``(C,)`` arrays: ``mean_*`` (signed: the bias the rescale adds),
    ``mean_abs_*``, ``max_abs_*`` for ``mult``, ``rounding``, ``total``, plus
    ``changed`` and ``saturated`` (fractions of outputs) and ``Mq_rel``.
    """
    out = {}
    for name in ("mult", "rounding", "total"):
        a = getattr(err, name).reshape(-1, err.mult.shape[-1])
        out[f"mean_{name}"] = _stat(np.mean, a, 0)
        out[f"mean_abs_{name}"] = _stat(np.mean, np.abs(a), 0)
        out[f"max_abs_{name}"] = _stat(np.max, np.abs(a), 0)
        out[f"mean_abs_{name}_real"] = out[f"mean_abs_{name}"] * float(y_scale)
    out["changed"] = err.changed.reshape(-1, err.mult.shape[-1]).mean(axis=0)
    out["saturated"] = err.saturated.reshape(-1, err.mult.shape[-1]).mean(axis=0)
    out["Mq_rel"] = err.Mq_rel
    return out


def _finite_stat(fn, a, *, finite):
    return float(fn(a[finite])) if finite.any() else float("nan")


def error_vs_k(acc, M, ks, **kw):
    """One summary row per ``k`` (over all channels of the layer), for tables and plots.

    Keys: ``k``, ``mean_abs_mult``, ``max_abs_mult``, ``mean_abs_rounding``,
    ``max_abs_rounding``, ``mean_abs_total``, ``mean_mult`` (signed), ``changed``
    (fraction of outputs different from k = 32), ``saturated``,
    ``max_Mq_rel`` (largest ``|M_q - M| / M``) and ``bound_mult``, the paper's bound
    ``max |M_q - M| * max |a_q|`` in LSBs.
    """
    acc = np.asarray(acc, dtype=np.int64)
    rows = []
    for k in ks:
        e = rescale_error(acc, M, k, **kw)
        Mq_abs = np.abs(e.Mq_rel) * np.asarray(M, dtype=np.float64)
        finite = ~np.isnan(e.mult)
        agg = functools.partial(_finite_stat, finite=finite)
        rows.append({
            "k": int(k),
            "mean_abs_mult": agg(np.mean, np.abs(e.mult)), "max_abs_mult": agg(np.max, np.abs(e.mult)),
            "mean_mult": agg(np.mean, e.mult),
            "mean_abs_rounding": agg(np.mean, np.abs(e.rounding)),
            "max_abs_rounding": agg(np.max, np.abs(e.rounding)),
            "mean_abs_total": agg(np.mean, np.abs(e.total)),
            "changed": float(e.changed.mean()), "saturated": float(e.saturated.mean()),
            "max_Mq_rel": float(np.abs(e.Mq_rel).max()),
            "bound_mult": float((Mq_abs * np.abs(acc).max(axis=tuple(range(acc.ndim - 1)))).max()),
        })
    return rows


def plot_error_vs_k(per_layer, path, *, title="Rescale error vs k"):
    """Two panels from ``{layer: error_vs_k rows}``: the error parts of Eq. (5) (mean and max
    |multiplier part|, mean |rounding part|, log scale) and the fraction of int8 outputs
    that change vs k = 32, per layer."""
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (name, rows) in enumerate(per_layer.items()):
        ks = [r["k"] for r in rows]
        c = colors[i % len(colors)]
        ax1.plot(ks, [r["mean_abs_mult"] for r in rows], "o-", color=c, label=f"{name} mean |a(Mq-M)|")
        ax1.plot(ks, [r["max_abs_mult"] for r in rows], "^:", color=c, alpha=0.6)
        ax2.plot(ks, [100 * r["changed"] for r in rows], "o-", color=c, label=name)
    rnd = [np.nanmean([rows[j]["mean_abs_rounding"] for rows in per_layer.values()]) for j in range(len(ks))]
    ax1.plot(ks, rnd, "k--", label="mean |rounding part| (all layers)")
    ax1.axhline(0.5, color="grey", lw=0.8)
    ax1.set_yscale("log")
    ax1.set_xlabel("multiplier width k (bits)")
    ax1.set_ylabel("error in output LSBs (dotted: max)")
    ax1.set_title("Eq. (5): multiplier part vs rounding part")
    ax1.legend(fontsize=7)
    ax2.set_xlabel("multiplier width k (bits)")
    ax2.set_ylabel("int8 outputs changed vs k = 32 (%)")
    ax2.set_title("outputs changed")
    ax2.legend(fontsize=7)
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.set_xticks(ks)
        ax.set_xticklabels([str(k) for k in ks])
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    save(fig, path, dpi=110)
