"""Statistics over repeated runs (seeds): mean, standard deviation, n and the 95% Student-t confidence
interval of a per-run scalar, and the comparison of two groups of runs (the difference of their means
with a Welch interval). Pure Python (no scipy): the t quantile is found by bisection on the t
distribution's CDF, computed from the regularized incomplete beta function (continued fraction, as in
Numerical Recipes' betacf), so it holds for any degrees of freedom, fractional ones (Welch) included.

  describe([0.91, 0.92, 0.90])      Summary(n=3, mean=0.91, sd=0.01, half=0.0248)  mean ± t·s/√n
  compare(a_values, b_values)       Diff: mean(a) − mean(b) ± t_{0.975,ν}·√(s_a²/n_a + s_b²/n_b)

The interval needs two runs on each side; with n = 1 there is none and the text says so ("n=1, no
interval"). A difference whose interval contains 0 is "no difference at 95%"."""
import math
from dataclasses import dataclass

LEVEL = 0.95
NO_INTERVAL = "no interval"


def _betacf(a, b, x):
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def betainc(a, b, x):
    """The regularized incomplete beta function I_x(a, b), 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t, df):
    """P(T <= t) for Student's t with df > 0 degrees of freedom."""
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p, df):
    """The p-quantile of Student's t with df degrees of freedom (0 < p < 1, df > 0), by bisection."""
    if not 0.0 < p < 1.0 or not df > 0:
        raise ValueError(f"t_quantile: need 0 < p < 1 and df > 0, got p={p}, df={df}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def _finite(values):
    return [float(v) for v in values if v is not None and not math.isnan(float(v))]


@dataclass(frozen=True)
class Summary:
    """A per-run scalar over n runs: mean, sample standard deviation (NaN for n < 2) and the half-width
    of the 95% t interval, t_{0.975,n-1}·sd/√n (NaN for n < 2)."""
    n: int
    mean: float
    sd: float
    half: float

    @property
    def has_interval(self):
        return self.n >= 2 and not math.isnan(self.half)

    def text(self, scale=1.0, fmt=".2f", unit=""):
        """'91.23 ± 0.45% (sd 0.30, n=3)', '91.23% (n=1, no interval)', '-' without runs."""
        if self.n == 0:
            return "-"
        mean = format(scale * self.mean, fmt) + unit
        if not self.has_interval:
            return f"{mean} (n={self.n}, {NO_INTERVAL})"
        return f"{format(scale * self.mean, fmt)} ± {format(scale * self.half, fmt)}{unit} " \
               f"(sd {format(scale * self.sd, fmt)}, n={self.n})"

    def short(self, scale=1.0, fmt=".2f", unit=""):
        """'91.23 ± 0.45%' or '91.23%' (n = 1): for table cells with an n column beside them."""
        if self.n == 0:
            return "-"
        if not self.has_interval:
            return format(scale * self.mean, fmt) + unit
        return f"{format(scale * self.mean, fmt)} ± {format(scale * self.half, fmt)}{unit}"


def describe(values, level=LEVEL):
    """Summary of the finite values (NaN and None are left out: a run that did not measure it)."""
    xs = _finite(values)
    n = len(xs)
    if n == 0:
        return Summary(0, float("nan"), float("nan"), float("nan"))
    mean = math.fsum(xs) / n
    if n < 2:
        return Summary(1, mean, float("nan"), float("nan"))
    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    return Summary(n, mean, sd, t_quantile(0.5 + level / 2, n - 1) * sd / math.sqrt(n))


@dataclass(frozen=True)
class Diff:
    """mean(a) − mean(b) with the half-width of its Welch interval (NaN when a side has n < 2) and the
    Welch–Satterthwaite degrees of freedom."""
    diff: float
    half: float
    df: float
    n_a: int
    n_b: int

    @property
    def has_interval(self):
        return not math.isnan(self.half)

    @property
    def differs(self):
        """True/False: whether the interval excludes 0; None without an interval."""
        if not self.has_interval:
            return None
        return abs(self.diff) > self.half

    def text(self, scale=100.0, unit=" points"):
        """'−0.40 ± 0.60 points: no difference at 95%' (accuracy fractions shown as points by default)."""
        d = f"{scale * self.diff:+.2f}".replace("-", "−")
        if not self.has_interval:
            return f"{d}{unit} (n={self.n_a} vs n={self.n_b}, {NO_INTERVAL})"
        verdict = "a difference at 95%" if self.differs else "no difference at 95%"
        return f"{d} ± {scale * self.half:.2f}{unit}: {verdict}"


def compare(a, b, level=LEVEL):
    """Diff of the finite values of a and b: mean(a) − mean(b), Welch interval."""
    sa, sb = describe(a, level), describe(b, level)
    diff = sa.mean - sb.mean
    if sa.n < 2 or sb.n < 2:
        return Diff(diff, float("nan"), float("nan"), sa.n, sb.n)
    va, vb = sa.sd ** 2 / sa.n, sb.sd ** 2 / sb.n
    se = math.sqrt(va + vb)
    if se == 0:
        return Diff(diff, 0.0, float("inf"), sa.n, sb.n)
    df = (va + vb) ** 2 / (va ** 2 / (sa.n - 1) + vb ** 2 / (sb.n - 1))
    return Diff(diff, t_quantile(0.5 + level / 2, df) * se, df, sa.n, sb.n)
