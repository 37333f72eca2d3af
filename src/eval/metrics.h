/* The GLUE metrics, computed as the libraries behind the GLUE numbers in
 * the literature compute them (transformers' glue_compute_metrics calls
 * scikit-learn and SciPy): accuracy (SST-2, RTE, QNLI, MNLI, WNLI), binary
 * F1 (MRPC, QQP), Matthews correlation (CoLA), Pearson and Spearman
 * correlation (STS-B). All in double precision.
 *
 * Classes are ints 0..num_classes-1. Each function checks its input and
 * returns ELANG_ERR_INVALID_ARG, with err->item the index at fault, for no
 * examples or a value outside the classes (or not finite). */
#ifndef ELANG_EVAL_METRICS_H
#define ELANG_EVAL_METRICS_H

#include <stddef.h>

#include "elang.h"

/* The fraction of i with pred[i] == label[i] (sklearn accuracy_score). */
elang_status metric_accuracy(const int *pred, const int *label, size_t n, double *out,
                             elang_error *err);

/* F1 of the positive class 1, every value 0 or 1 (sklearn f1_score with
 * average='binary'): 2tp / (2tp + fp + fn), and 0 when there is neither a
 * positive prediction nor a positive label (sklearn's zero_division
 * default). */
elang_status metric_f1(const int *pred, const int *label, size_t n, double *out,
                       elang_error *err);

/* Matthews correlation coefficient of num_classes classes (sklearn
 * matthews_corrcoef, its multi-class form; the usual formula for 2
 * classes), 0 when undefined (all predictions or all labels one class). */
elang_status metric_mcc(const int *pred, const int *label, size_t n, int num_classes,
                        double *out, elang_error *err);

/* Pearson's r (scipy.stats.pearsonr), n >= 2. NaN, as SciPy returns, when
 * x or y is constant. */
elang_status metric_pearson(const double *x, const double *y, size_t n, double *out,
                            elang_error *err);

/* Spearman's rho (scipy.stats.spearmanr): Pearson's r of the ranks, tied
 * values sharing the average of their ranks. n >= 2; NaN when x or y is
 * constant. */
elang_status metric_spearman(const double *x, const double *y, size_t n, double *out,
                             elang_error *err);

#endif
