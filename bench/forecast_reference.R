# Reference values for uba's exponential smoothing (ETS) forecasts, from R's forecast package.
#
# Usage (from the project root):
#     Rscript bench/forecast_reference.R [outdir]        # outdir defaults to test/data
#
# Needs R 4.x with forecast (written against 8.20).  Takes about a minute.
#
# Series: real series shipped with R (package datasets, part of R, GPL) and with the forecast
# package (wineind, gas, woolyrnq; GPL-3, originally Australian Bureau of Statistics).  A
# series longer than 240 observations keeps its last 240.  The last h observations are the
# holdout (M3 convention: h = 18 monthly, 8 quarterly, 6 annual), the rest is the training
# part every model is fitted to.
#
# Files written (numbers with up to 17 significant digits so they read back as the same
# double; "NA" marks a value that does not exist, e.g. beta of a model without trend):
#
#   forecast_series.csv       series,frequency,idx,date,value,part
#       one row per observation; idx from 1; date = first day of the period (month, quarter,
#       or Jan 1 of the year); part = train | test.
#   forecast_ets_reference.csv
#       series,n,h,method,alpha,beta,gamma,phi,loglik,aic,aicc,bic,sigma2,mase_holdout,
#       mase_train,seconds
#       fit <- ets(train) with every default (model "ZZZ", opt.crit "lik", ic "aicc",
#       bounds "both", restrict TRUE, no multiplicative trend).  n = training length.
#       mase_* from accuracy(forecast(fit, h), test): the scale is the in-sample mean
#       absolute seasonal-naive error (lag = frequency; lag 1 for annual series).
#       seconds = elapsed time of the ets() call.
#   forecast_ets_models.csv
#       series,model,loglik,aicc,alpha,beta,gamma,phi,l0,b0,mean,np,aic,bic,sigma2,init_season,
#       nm_evals,nm_fail,point
#       every model ets() considers under its defaults, fitted alone with
#       ets(train, model = "XYZ", damped = TRUE/FALSE): error A/M x trend N/A/Ad x season
#       N/A/M, without multiplicative error or season when the data are not all positive,
#       without season when the frequency is 1 (or > 24), without A error + M season
#       (restrict = TRUE); models ets() cannot fit are left out.  model is the method string,
#       e.g. ETS(A,Ad,M).  mean = forecast means for steps 1..h separated by ';'.
#       np = number of parameters in aic/aicc/bic: the smoothing parameters, the free initial
#       states (level, trend, m - 1 seasonal states; the m-th is fixed by the normalisation)
#       and 1 for the innovation variance.  init_season = the initial seasonal states
#       s1;...;sm as R stores them (s1 is the most recent, sm is used for the first
#       observation).  nm_evals, nm_fail = R's Nelder-Mead function evaluations and fail code
#       (1 = stopped at maxit = 2000 evaluations before its tolerance was met, 10 = degenerate
#       simplex): where it is 1, R's optimum is not converged and a better one may exist.
#       point = the state-space point forecasts for steps 1..h (see below), ';'-separated.
#       loglik is R's: -0.5 * (n * log(sum e^2) + 2 * sum log|yhat|), the last term only for
#       multiplicative error; i.e. the concentrated likelihood without constants.
#   forecast_ets_forecasts.csv  series,step,mean,lo80,hi80,lo95,hi95,point
#       forecast(fit, h) of the model ets() chose (80 % and 95 % intervals), and point = the
#       plain state-space point forecast from the last state: level + (phi + ... + phi^j) *
#       trend, plus/times the seasonal state of that period.  mean equals point for every
#       model except those with multiplicative error and season (forecast's "class 3"), where
#       mean is the analytic expectation of Hyndman et al. (2008, ch. 6): it adds a
#       sigma2-dependent term from step m+1 on, and with a damped trend forecast 8.20 builds
#       it as level + (1 + phi + ... + phi^(j-1)) * trend (no damping at step 1), so mean
#       and point differ by about trend * (1 - phi) / level from step 1.
#
# One line per series goes to stdout.

suppressPackageStartupMessages(library(forecast))

args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "test/data"
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)
set.seed(20240601)  # only matters if a model needed simulated intervals (none by default)

# Shortest of 15 or 17 significant digits that reads back as the same double.
fmt <- function(x) {
  x <- as.numeric(x)
  s <- sprintf("%.15g", x)
  bad <- !is.na(x)
  bad[bad] <- as.numeric(s[bad]) != x[bad]
  s[bad] <- sprintf("%.17g", x[bad])
  s[is.na(x)] <- "NA"
  s
}

series_names <- c(
  # monthly
  "AirPassengers", "USAccDeaths", "nottem", "ldeaths", "mdeaths", "fdeaths",
  "UKDriverDeaths", "co2", "wineind", "gas",
  # quarterly
  "UKgas", "JohnsonJohnson", "austres", "woolyrnq",
  # annual
  "Nile", "lynx", "LakeHuron", "airmiles", "nhtemp", "sunspot.year", "discoveries"
)

get_series <- function(name) {
  if (name %in% c("wineind", "gas", "woolyrnq")) {
    get(name, envir = asNamespace("forecast"))
  } else {
    get(name, envir = asNamespace("datasets"))
  }
}

# Year and cycle (1-based) of observation i of a series, from the integer period number
# round(start * frequency) so floating time is never truncated.
year_cycle <- function(tsp_y, i) {
  f <- round(tsp_y[3])
  k <- round(tsp_y[1] * f) + (i - 1)
  cbind(year = k %/% f, cycle = k %% f + 1)
}

period_date <- function(yc, f) {
  month <- switch(as.character(f), "12" = yc[, "cycle"], "4" = 3 * (yc[, "cycle"] - 1) + 1,
                  "1" = rep(1, nrow(yc)), stop("unexpected frequency"))
  sprintf("%04d-%02d-01", as.integer(yc[, "year"]), as.integer(month))
}

par_or_na <- function(fit, name) {
  v <- fit$par[name]
  if (is.null(v) || is.na(v)) NA_real_ else unname(v)
}

# The state-space point forecast from the last state: level + (phi + ... + phi^j) * trend,
# plus/times the seasonal state of that period (R stores s1 = newest .. sm = oldest; step j
# uses s[m - (j-1) %% m]).  Computed here, not with the package's C routine etsforecast,
# whose damped sum is wrong from step 2 in forecast 8.20 (it uses 2 phi instead of
# phi + phi^2; fixed upstream after 9.0.2).  forecast()'s mean equals it except for
# M-error/M-season models (see the header); checked for every other model below.
point_forecast <- function(fit, h) {
  comp <- fit$components
  x <- fit$states[nrow(fit$states), ]
  phi <- if (comp[4] == "TRUE") unname(fit$par["phi"]) else 1
  j <- seq_len(h)
  f <- switch(comp[2], N = rep(x[["l"]], h),
              A = x[["l"]] + cumsum(phi^j) * x[["b"]],
              stop("multiplicative trend not handled"))
  if (comp[3] != "N") {
    m <- fit$m
    s <- x[paste0("s", seq_len(m))]
    sj <- s[m - (j - 1) %% m]
    f <- if (comp[3] == "A") f + sj else f * sj
  }
  unname(f)
}
check_point <- function(fit, mean, h, what) {
  comp <- fit$components
  if (comp[1] == "M" && comp[3] == "M") return(invisible())
  p <- point_forecast(fit, h)
  if (max(abs(p - mean) / pmax(abs(mean), 1e-300)) > 1e-9)
    stop(sprintf("%s: forecast mean differs from the point forecast", what))
}

all_series <- list()
ref_rows <- list()
model_rows <- list()
fc_rows <- list()

for (name in series_names) {
  y0 <- get_series(name)
  f <- round(frequency(y0))
  v <- as.numeric(y0)
  first <- max(1, length(v) - 239)
  yc0 <- year_cycle(tsp(y0), first)
  v <- v[first:length(v)]
  n_all <- length(v)
  y <- ts(v, start = c(yc0[1, "year"], yc0[1, "cycle"]), frequency = f)
  h <- switch(as.character(f), "12" = 18, "4" = 8, "1" = 6)
  n <- n_all - h
  yc <- year_cycle(tsp(y), seq_len(n_all))
  train <- ts(v[1:n], start = c(yc[1, "year"], yc[1, "cycle"]), frequency = f)
  test <- ts(v[(n + 1):n_all], start = c(yc[n + 1, "year"], yc[n + 1, "cycle"]), frequency = f)

  all_series[[name]] <- data.frame(
    series = name, frequency = f, idx = seq_len(n_all), date = period_date(yc, f),
    value = fmt(v), part = c(rep("train", n), rep("test", h)), stringsAsFactors = FALSE)

  t0 <- proc.time()[["elapsed"]]
  fit <- ets(train)
  secs <- proc.time()[["elapsed"]] - t0
  fc <- forecast(fit, h = h)
  check_point(fit, fc$mean, h, name)
  acc <- accuracy(fc, test)

  ref_rows[[name]] <- data.frame(
    series = name, n = n, h = h, method = fit$method,
    alpha = fmt(par_or_na(fit, "alpha")), beta = fmt(par_or_na(fit, "beta")),
    gamma = fmt(par_or_na(fit, "gamma")), phi = fmt(par_or_na(fit, "phi")),
    loglik = fmt(fit$loglik), aic = fmt(fit$aic), aicc = fmt(fit$aicc), bic = fmt(fit$bic),
    sigma2 = fmt(fit$sigma2),
    mase_holdout = fmt(acc["Test set", "MASE"]), mase_train = fmt(acc["Training set", "MASE"]),
    seconds = sprintf("%.3f", secs), stringsAsFactors = FALSE)

  fc_rows[[name]] <- data.frame(
    series = name, step = seq_len(h), mean = fmt(fc$mean),
    lo80 = fmt(fc$lower[, "80%"]), hi80 = fmt(fc$upper[, "80%"]),
    lo95 = fmt(fc$lower[, "95%"]), hi95 = fmt(fc$upper[, "95%"]),
    point = fmt(point_forecast(fit, h)), stringsAsFactors = FALSE)

  # Every model the default search considers, one at a time.
  positive <- min(train) > 0
  seasonal_ok <- f > 1 && f <= 24 && n > f
  errors <- if (positive) c("A", "M") else "A"
  seasons <- if (!seasonal_ok) "N" else if (positive) c("N", "A", "M") else c("N", "A")
  n_models <- 0
  best_check <- NA
  for (e in errors) for (tr in c("N", "A")) for (s in seasons) for (d in c(TRUE, FALSE)) {
    if (tr == "N" && d) next
    if (e == "A" && s == "M") next
    mf <- tryCatch(suppressWarnings(ets(train, model = paste0(e, tr, s), damped = d)),
                   error = function(err) NULL)
    if (is.null(mf) || is.null(mf$loglik) || !is.finite(mf$aicc)) next
    n_models <- n_models + 1
    mmean <- forecast(mf, h = h, PI = FALSE)$mean
    check_point(mf, mmean, h, paste(name, mf$method))
    st <- mf$initstate
    seas <- st[grepl("^s[0-9]+$", names(st))]
    np <- length(mf$par) + 1
    model_rows[[paste(name, mf$method)]] <- data.frame(
      series = name, model = mf$method,
      loglik = fmt(mf$loglik), aicc = fmt(mf$aicc),
      alpha = fmt(par_or_na(mf, "alpha")), beta = fmt(par_or_na(mf, "beta")),
      gamma = fmt(par_or_na(mf, "gamma")), phi = fmt(par_or_na(mf, "phi")),
      l0 = fmt(st["l"]), b0 = fmt(if ("b" %in% names(st)) st["b"] else NA),
      mean = paste(fmt(mmean), collapse = ";"),
      np = np, aic = fmt(mf$aic), bic = fmt(mf$bic), sigma2 = fmt(mf$sigma2),
      init_season = if (length(seas)) paste(fmt(seas), collapse = ";") else "NA",
      nm_evals = mf$fit$fncount, nm_fail = mf$fit$fail,
      point = paste(fmt(point_forecast(mf, h)), collapse = ";"),
      stringsAsFactors = FALSE)
    if (mf$method == fit$method) best_check <- mf$aicc
  }
  if (!isTRUE(all.equal(best_check, fit$aicc)))
    stop(sprintf("%s: the chosen model refitted alone gives another AICc", name))

  cat(sprintf("%-15s f=%-2d n=%3d h=%2d %-13s aicc=%10.3f loglik=%10.3f MASE test=%6.3f  %2d models  %.2fs\n",
              name, f, n, h, fit$method, fit$aicc, fit$loglik, acc["Test set", "MASE"],
              n_models, secs))
}

w <- function(rows, file) {
  d <- do.call(rbind, rows)
  rownames(d) <- NULL
  # a field is quoted only when it holds a comma or a quote (the method strings)
  cols <- lapply(d, function(col) {
    col <- as.character(col)
    q <- grepl('[,"]', col)
    col[q] <- paste0('"', gsub('"', '""', col[q]), '"')
    col
  })
  writeLines(c(paste(names(d), collapse = ","), do.call(paste, c(cols, sep = ","))),
             file.path(outdir, file))
}
w(all_series, "forecast_series.csv")
w(ref_rows, "forecast_ets_reference.csv")
w(model_rows, "forecast_ets_models.csv")
w(fc_rows, "forecast_ets_forecasts.csv")
cat(sprintf("forecast %s, %s; files in %s\n", packageVersion("forecast"), R.version.string, outdir))
