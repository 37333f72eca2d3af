/* The E-LANG decision. Every place that routes, sweeps thresholds, reports
 * or prints a decision asks this function, so that ties (a score exactly at
 * the threshold) fall the same way everywhere: to Swift. */
#include "elang.h"

bool elang_keeps_swift(double score, double threshold) { return score >= threshold; }
