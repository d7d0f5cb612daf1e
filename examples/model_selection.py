"""Choose the number of components and the covariance type by BIC.

Run: python examples/model_selection.py
"""

import numpy as np

import fastgmm

rng = np.random.default_rng(0)
X = np.concatenate(
    [
        rng.normal([0, 0], [1.0, 0.5], (200, 2)),
        rng.normal([6, 0], [0.5, 1.5], (200, 2)),
        rng.normal([0, 7], [1.2, 1.2], (200, 2)),
    ]
)

table, best = fastgmm.select(X, n_components=range(1, 7), covariance_type="all", random_state=0)
print(f"{'k':>2} {'type':>9} {'BIC':>10} {'AIC':>10} {'log-lik':>10} conv iter  time")
for row in table:
    print(
        f"{row['n_components']:2d} {row['covariance_type']:>9} {row['bic']:10.1f} "
        f"{row['aic']:10.1f} {row['log_likelihood']:10.1f} {row['converged']!s:>4} "
        f"{row['n_iter']:4d} {row['fit_time'] * 1e3:5.1f}ms"
    )
print("best by BIC:", best)
print("its BIC    :", best.bic(X))

# The same as a scikit-learn style estimator (delegates predict, score, ... to the best model)
ic = fastgmm.GaussianMixtureIC(n_components=range(1, 7), criterion="aic", random_state=0).fit(X)
print("best by AIC:", ic.best_params_)
