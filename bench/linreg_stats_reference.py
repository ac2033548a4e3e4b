#!/usr/bin/python3
"""Reference for uba_linreg_coefficients' least-squares statistics (R's summary.lm): ordinary
least squares with an intercept, computed independently with numpy (lstsq, the covariance
sigma^2 (X'X)^-1 of the design with a column of ones) and scipy (Student's t), on the rows
test/predict_linreg_stats.sql builds with the same formulas (200 rows, and the first 6).  Writes
test/data/linreg_stats_reference.csv: rows, feature (0 = intercept), coefficient, std_error, t, p_value.

    /usr/bin/python3 bench/linreg_stats_reference.py > test/data/linreg_stats_reference.csv
"""
import sys

import numpy as np
from scipy import stats

w = sys.stdout
w.write("rows,feature,coefficient,std_error,t,p_value\n")
# 200 rows (196 degrees of freedom), and 6 rows (2: Student's t far from the normal)
for rows in (200, 6):
    g = np.arange(1, rows + 1, dtype=np.float64)
    X = np.column_stack([np.sin(g * 0.7) * 3, np.cos(g * 1.3) + g * 0.01, np.mod(g, 7)])
    y = 2.5 + 1.5 * np.sin(g * 0.7) * 3 - 0.7 * (np.cos(g * 1.3) + g * 0.01) + 0.05 * np.mod(g, 7) + np.sin(g * 3.1)
    D = np.column_stack([np.ones(len(g)), X])
    beta, *_ = np.linalg.lstsq(D, y, rcond=None)
    resid = y - D @ beta
    df = len(g) - D.shape[1]
    sigma2 = resid @ resid / df
    se = np.sqrt(sigma2 * np.diag(np.linalg.inv(D.T @ D)))
    t = beta / se
    p = 2 * stats.t.sf(np.abs(t), df)
    for j in range(D.shape[1]):
        w.write(f"{rows},{j},{beta[j]!r},{se[j]!r},{t[j]!r},{p[j]!r}\n")
