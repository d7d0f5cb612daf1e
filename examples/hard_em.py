"""Hard-assignment (classification) EM on the lecture's 1-D example, and the resp-change rule.

Blue N(0, 3^2) and red N(10, 1), 100 points each; EM starts at means 3 and 5,
standard deviations 1 and weights 1/2 (the seeds' lecture 12 example).

Run: python examples/hard_em.py
"""

import numpy as np

from fastgmm import GaussianMixture
from fastgmm._datasets import make_1d_lecture_mixture
from fastgmm._metrics import best_match_accuracy

X, y = make_1d_lecture_mixture("two", random_state=0)
start = {
    "weights_init": [0.5, 0.5],
    "means_init": [[3.0], [5.0]],
    "precisions_init": [[[1.0]], [[1.0]]],
}
for assignment in ("soft", "hard"):
    gm = GaussianMixture(2, assignment=assignment, **start).fit(X)
    sd = np.sqrt(gm.covariances_[:, 0, 0])
    print(
        f"{assignment:4s} EM: {gm.n_iter_:2d} iterations, means {np.round(gm.means_[:, 0], 3)}, "
        f"sds {np.round(sd, 3)}, weights {np.round(gm.weights_, 3)}, "
        f"accuracy {best_match_accuracy(y, gm.predict(X)):.3f}"
    )
    # hard EM: lower_bounds_ is the classification log-likelihood and never decreases
    print("      lower bounds:", np.round(gm.lower_bounds_, 4))

# The homework's stopping rule: stop when no responsibility moves by 1e-4 or more.
gm = GaussianMixture(2, stopping="resp_change", resp_tol=1e-4, **start).fit(X)
print(f"soft EM with max|gamma - gamma_prev| < 1e-4: {gm.n_iter_} iterations")
