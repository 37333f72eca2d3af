/* CALIB.json: a calibration as a small JSON object. Loading checks every
 * field, so a hand-edited or truncated file is refused with the field named
 * instead of routing with a wrong threshold. Version 2 records its paths
 * (the data, its line list, the models) relative to the file's folder, so
 * that they hold wherever the command that reads it runs; version 1 held
 * them as calibrate was given them, from wherever it ran. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elang_eval.h"
#include "eval/tasks.h"
#include "util/error.h"
#include "util/files.h"
#include "util/out_file.h"
#include "util/paths.h"

static json_t *number(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* A string field, "" for one never set. */
static const char *text(const char *s) { return s ? s : ""; }

elang_status elang_calibration_set(char **dst, const char *src, elang_error *err) {
    char *copy = strdup(src ? src : "");
    if (!copy) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a calibration");
    free(*dst);
    *dst = copy;
    return ELANG_OK;
}

void elang_calibration_free(elang_calibration *c) {
    if (!c) return;
    for (int i = 0; i < c->num_label_words; i++) free(c->label_words[i]);
    free(c->label_words);
    char **strings[] = {&c->objective, &c->task, &c->data, &c->data_lines, &c->metric_name,
                        &c->swift_dir, &c->super_dir, &c->swift_prefix, &c->super_prefix, &c->pair_infix};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) free(*strings[i]);
    memset(c, 0, sizeof *c);
}

/* A model's content hash as elang_model_hash writes it: 16 hex digits. */
static bool is_hash(const char *s) {
    bool ok = s && strlen(s) == 16;
    for (int i = 0; ok && i < 16; i++) ok = strchr("0123456789abcdef", s[i]) != NULL;
    return ok;
}

/* The task a calibration is for: a GLUE task's name or translation; else
 * `code` (a file read is malformed, a calibration to write invalid). */
static elang_status check_task(const char *path, const char *task, elang_status code, elang_error *err) {
    const task_def *def;
    elang_error unknown;
    if (task && (strcmp(task, "translation") == 0 || task_find(task, &def, &unknown) == ELANG_OK)) return ELANG_OK;
    return elang_fail(err, code, "%s: unknown task \"%s\" (a GLUE task's name, or translation)", path,
                      task ? task : "");
}

/* What elang_calibration_load would refuse is not written: a file that
 * cannot be read back is lost work found out later. */
static elang_status check_savable(const elang_calibration *c, const char *path, elang_error *err) {
    const char *bad = !isfinite(c->threshold)                                ? "the threshold is not a number"
                      : !(c->temperature > 0.0) || !isfinite(c->temperature) ? "the temperature is not positive"
                      : !(c->holdout >= 0.0 && c->holdout < 1.0)              ? "the holdout is not from 0 to 1"
                      : !is_hash(c->swift_hash) || !is_hash(c->super_hash)   ? "a model hash is not 16 hex digits"
                      : !elang_score_name(c->score)                          ? "the score kind is unknown"
                      : !elang_aggregation_name(c->aggregate)                ? "the aggregation is unknown"
                      : !elang_dtype_name(c->dtype)                          ? "the dtype is unknown"
                      : c->num_beams < 1 || c->num_beams > 64                ? "num_beams is not from 1 to 64"
                      : c->max_new_tokens < 1 || c->max_new_tokens > 4096    ? "max_new_tokens is not from 1 to 4096"
                      : c->num_label_words == 1 || c->num_label_words < 0 || c->num_label_words > 4096
                          ? "label words must be none or 2 to 4096"
                          : NULL;
    for (int i = 0; !bad && i < c->num_label_words; i++)
        if (!c->label_words || !c->label_words[i] || !c->label_words[i][0]) bad = "a label word is empty";
    if (bad) return elang_fail(err, ELANG_ERR_INVALID_ARG, "%s: not written: %s", path, bad);
    return check_task(path, c->task, ELANG_ERR_INVALID_ARG, err);
}

/* The paths a calibration records, in this order. */
enum { PATH_DATA, PATH_DATA_LINES, PATH_SWIFT, PATH_SUPER, PATHS };

elang_status elang_calibration_save(const elang_calibration *c, const char *path, elang_error *err) {
    elang_status st = check_savable(c, path, err);
    if (st != ELANG_OK) return st;
    const char *given[PATHS] = {c->data, c->data_lines, c->swift_dir, c->super_dir};
    char *recorded[PATHS] = {0};
    for (int i = 0; i < PATHS; i++)
        if (!(recorded[i] = path_for_file(path, text(given[i])))) st = ELANG_ERR_NOMEM;
    if (st != ELANG_OK) {
        for (int i = 0; i < PATHS; i++) free(recorded[i]);
        return elang_fail(err, st, "out of memory writing %s", path);
    }
    json_t *words = json_array();
    for (int i = 0; i < c->num_label_words; i++) json_array_append_new(words, json_string(c->label_words[i]));
    json_t *root = json_pack(
        "{s:i, s:o, s:s, s:f, s:s, s:o, s:s, s:s, s:s, s:s, s:f, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
        " s:i, s:i, s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}}",
        "elang_calibration", 2, "threshold", number(c->threshold), "score", elang_score_name(c->score),
        "temperature", c->temperature, "aggregation", elang_aggregation_name(c->aggregate), "label_words", words,
        "objective", text(c->objective), "task", text(c->task), "data", recorded[PATH_DATA], "data_lines",
        recorded[PATH_DATA_LINES], "holdout", c->holdout, "metric_name", text(c->metric_name), "metric",
        number(c->metric), "super_rate", number(c->super_rate), "gflops", number(c->gflops), "heldout_metric",
        number(c->heldout_metric), "heldout_super_rate", number(c->heldout_super_rate), "swift_metric",
        number(c->swift_metric), "super_metric", number(c->super_metric), "swift_gflops", number(c->swift_gflops),
        "super_gflops", number(c->super_gflops), "num_beams", c->num_beams, "max_new_tokens", c->max_new_tokens,
        "dtype", elang_dtype_name(c->dtype), "pair_infix", text(c->pair_infix),
        "swift", "path", recorded[PATH_SWIFT], "hash", c->swift_hash, "prefix", text(c->swift_prefix),
        "super", "path", recorded[PATH_SUPER], "hash", c->super_hash, "prefix", text(c->super_prefix));
    for (int i = 0; i < PATHS; i++) free(recorded[i]);
    if (!root) return elang_fail(err, ELANG_ERR_FORMAT, "%s: a calibration field is not valid UTF-8", path);
    /* Written as util/out_file does: a full disk or a killed process never
     * leaves a truncated calibration where a good one was. 17 digits give
     * back the very double: a threshold set at a score and rounded up on the
     * way would send that score's input to Super. */
    out_file out;
    st = out_file_open(&out, path, err);
    if (st == ELANG_OK) {
        if (json_dumpf(root, out.f, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) != 0 || fputc('\n', out.f) == EOF) {
            st = elang_fail(err, ELANG_ERR_IO, "cannot write output %s: %s", path, strerror(errno));
            out_file_abort(&out);
        } else {
            st = out_file_commit(&out, err);
        }
    }
    json_decref(root);
    return st;
}

static elang_status get_string(json_t *obj, const char *path, const char *key, char **out, elang_error *err) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v)) return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"%s\" must be a string", path, key);
    return elang_calibration_set(out, json_string_value(v), err);
}

/* A number, or null for "none" (stored as NaN) when nullable. */
static elang_status get_number(json_t *obj, const char *path, const char *key, bool nullable, double *out,
                               elang_error *err) {
    json_t *v = json_object_get(obj, key);
    if (nullable && json_is_null(v)) {
        *out = NAN;
        return ELANG_OK;
    }
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"%s\" must be a number", path, key);
    *out = json_number_value(v);
    return ELANG_OK;
}

static elang_status get_hash(json_t *obj, const char *path, const char *side, char out[17], elang_error *err) {
    json_t *v = json_object_get(obj, "hash");
    const char *s = json_string_value(v);
    if (!json_is_string(v) || json_string_length(v) != 16 || !is_hash(s))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"%s\".\"hash\" must be 16 hex digits, as elang calibrate "
                          "writes it", path, side);
    memcpy(out, s, 17);
    return ELANG_OK;
}

static elang_status read_fields(json_t *root, const char *path, elang_calibration *c, elang_error *err) {
    char *name = NULL;
    elang_status st;
    json_t *version = json_object_get(root, "elang_calibration");
    if (!json_is_integer(version) || json_integer_value(version) < 1 || json_integer_value(version) > 2)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: not an elang calibration file (version 1 or 2)", path);
    if ((st = get_number(root, path, "threshold", false, &c->threshold, err)) ||
        (st = get_number(root, path, "temperature", false, &c->temperature, err)) ||
        (st = get_number(root, path, "holdout", false, &c->holdout, err)) ||
        (st = get_number(root, path, "metric", true, &c->metric, err)) ||
        (st = get_number(root, path, "super_rate", true, &c->super_rate, err)) ||
        (st = get_number(root, path, "gflops", true, &c->gflops, err)) ||
        (st = get_number(root, path, "heldout_metric", true, &c->heldout_metric, err)) ||
        (st = get_number(root, path, "heldout_super_rate", true, &c->heldout_super_rate, err)) ||
        (st = get_number(root, path, "swift_metric", true, &c->swift_metric, err)) ||
        (st = get_number(root, path, "super_metric", true, &c->super_metric, err)) ||
        (st = get_number(root, path, "swift_gflops", true, &c->swift_gflops, err)) ||
        (st = get_number(root, path, "super_gflops", true, &c->super_gflops, err)) ||
        (st = get_string(root, path, "objective", &c->objective, err)) ||
        (st = get_string(root, path, "task", &c->task, err)) ||
        (st = get_string(root, path, "data", &c->data, err)) ||
        (st = get_string(root, path, "data_lines", &c->data_lines, err)) ||
        (st = get_string(root, path, "metric_name", &c->metric_name, err)))
        return st;
    if ((st = check_task(path, c->task, ELANG_ERR_FORMAT, err)) != ELANG_OK) return st;
    json_t *beams = json_object_get(root, "num_beams"), *max_new = json_object_get(root, "max_new_tokens");
    if (!json_is_integer(beams) || json_integer_value(beams) < 1 || json_integer_value(beams) > 64)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"num_beams\" must be an integer from 1 to 64", path);
    if (!json_is_integer(max_new) || json_integer_value(max_new) < 1 || json_integer_value(max_new) > 4096)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"max_new_tokens\" must be an integer from 1 to 4096", path);
    c->num_beams = (int)json_integer_value(beams);
    c->max_new_tokens = (int)json_integer_value(max_new);
    if (!(c->temperature > 0.0))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"temperature\" must be positive", path);
    if (!(c->holdout >= 0.0 && c->holdout < 1.0))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"holdout\" must be from 0 to below 1", path);
    /* Calibrations written before dtypes existed were made in F32. */
    json_t *dtype = json_object_get(root, "dtype");
    if (dtype && (!json_is_string(dtype) || !elang_dtype_from_name(json_string_value(dtype), &c->dtype)))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"dtype\" must be \"f32\", \"bf16\" or \"int8\"", path);
    if ((st = get_string(root, path, "score", &name, err))) return st;
    if (!elang_score_from_name(name, &c->score))
        st = elang_fail(err, ELANG_ERR_FORMAT, "%s: unknown score \"%s\"", path, name);
    if (st == ELANG_OK && (st = get_string(root, path, "aggregation", &name, err)) == ELANG_OK &&
        !elang_aggregation_from_name(name, &c->aggregate))
        st = elang_fail(err, ELANG_ERR_FORMAT, "%s: unknown aggregation \"%s\"", path, name);
    free(name);
    if (st != ELANG_OK) return st;
    json_t *words = json_object_get(root, "label_words");
    if (!json_is_array(words) || json_array_size(words) == 1 || json_array_size(words) > 4096)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"label_words\" must be a list of no words or 2 to 4096",
                          path);
    const int n_words = (int)json_array_size(words);
    if (n_words > 0 && !(c->label_words = calloc((size_t)n_words, sizeof *c->label_words)))
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading %s", path);
    for (int i = 0; i < n_words; i++, c->num_label_words++) {
        json_t *w = json_array_get(words, (size_t)i);
        if (!json_is_string(w) || json_string_length(w) == 0)
            return elang_fail(err, ELANG_ERR_FORMAT, "%s: label word %d must be a non-empty string", path, i + 1);
        if ((st = elang_calibration_set(&c->label_words[i], json_string_value(w), err))) return st;
    }
    /* Files from before pair infixes have none. */
    json_t *infix = json_object_get(root, "pair_infix");
    if (infix && !json_is_string(infix)) return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"pair_infix\" must be a string", path);
    if ((st = elang_calibration_set(&c->pair_infix, infix ? json_string_value(infix) : "", err))) return st;
    const char *sides[2] = {"swift", "super"};
    for (int s = 0; s < 2; s++) {
        json_t *m = json_object_get(root, sides[s]);
        if (!json_is_object(m)) return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"%s\" must be an object", path, sides[s]);
        if ((st = get_string(m, path, "path", s == 0 ? &c->swift_dir : &c->super_dir, err)) ||
            (st = get_hash(m, path, sides[s], s == 0 ? c->swift_hash : c->super_hash, err)) ||
            (st = get_string(m, path, "prefix", s == 0 ? &c->swift_prefix : &c->super_prefix, err)))
            return elang_error_prefix(err, st, "%s model: ", sides[s]);
    }
    if (json_integer_value(version) == 1) return ELANG_OK;
    char **fields[PATHS] = {&c->data, &c->data_lines, &c->swift_dir, &c->super_dir};
    for (int i = 0; i < PATHS; i++) {
        char *here = path_from_file(path, *fields[i]);
        if (!here) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading %s", path);
        free(*fields[i]);
        *fields[i] = here;
    }
    return ELANG_OK;
}

elang_status elang_calibration_load(const char *path, elang_calibration *c, elang_error *err) {
    memset(c, 0, sizeof *c);
    if (access(path, F_OK) != 0)
        return elang_fail(err, ELANG_ERR_IO, "cannot open calibration %s: %s", path, strerror(errno));
    json_t *root;
    elang_status st = file_load_json(path, JSON_REJECT_DUPLICATES, &root, err);
    if (st != ELANG_OK) return st;
    st = json_is_object(root) ? read_fields(root, path, c, err)
                              : elang_fail(err, ELANG_ERR_FORMAT, "%s: not a JSON object", path);
    json_decref(root);
    if (st != ELANG_OK) elang_calibration_free(c);
    return st;
}

elang_status elang_calibration_check(const elang_calibration *c, const char *swift_dir, const char *super_dir,
                                     elang_error *err) {
    const char *dirs[2] = {swift_dir, super_dir}, *want[2] = {c->swift_hash, c->super_hash};
    const char *was[2] = {text(c->swift_dir), text(c->super_dir)}, *role[2] = {"Swift", "Super"};
    if (!swift_dir) return elang_fail(err, ELANG_ERR_INVALID_ARG, "checking a calibration needs Swift's directory");
    for (int s = 0; s < 2; s++) {
        if (!dirs[s]) continue;
        char hash[17];
        elang_status st = elang_model_hash(dirs[s], hash, err);
        if (st != ELANG_OK) return st;
        if (strcmp(hash, want[s]) != 0)
            return elang_fail(err, ELANG_ERR_INVALID_ARG,
                              "the calibration was made for %s model %s (hash %s), but %s has hash %s: "
                              "calibrate again for these models", role[s], was[s], want[s], dirs[s], hash);
    }
    return ELANG_OK;
}
