/* CALIB.json: a calibration as a small JSON object. Loading checks every
 * field, so a hand-edited or truncated file is refused with the field named
 * instead of routing with a wrong threshold. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "elang.h"

static json_t *number(double v) { return isfinite(v) ? json_real(v) : json_null(); }

elang_status elang_calibration_save(const elang_calibration *c, const char *path, elang_error *err) {
    json_t *words = json_array();
    for (int i = 0; i < c->num_label_words; i++) json_array_append_new(words, json_string(c->label_words[i]));
    json_t *root = json_pack(
        "{s:i, s:o, s:s, s:f, s:s, s:o, s:s, s:s, s:s, s:s, s:f, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
        " s:i, s:i, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}}",
        "elang_calibration", 1, "threshold", number(c->threshold), "score", elang_score_name(c->score),
        "temperature", c->temperature, "aggregation", elang_aggregation_name(c->aggregate), "label_words", words,
        "objective", c->objective, "task", c->task, "data", c->data, "data_lines", c->data_lines, "holdout", c->holdout,
        "metric_name", c->metric_name, "metric", number(c->metric), "super_rate", number(c->super_rate),
        "gflops", number(c->gflops), "heldout_metric", number(c->heldout_metric),
        "heldout_super_rate", number(c->heldout_super_rate), "swift_metric", number(c->swift_metric),
        "super_metric", number(c->super_metric), "swift_gflops", number(c->swift_gflops),
        "super_gflops", number(c->super_gflops), "num_beams", c->num_beams, "max_new_tokens", c->max_new_tokens,
        "swift", "path", c->swift_dir, "hash", c->swift_hash, "prefix", c->swift_prefix,
        "super", "path", c->super_dir, "hash", c->super_hash, "prefix", c->super_prefix);
    if (!root) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory writing %s", path);
    const int rc = json_dump_file(root, path, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
    json_decref(root);
    return rc == 0 ? ELANG_OK : elang_fail(err, ELANG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
}

static elang_status get_string(json_t *obj, const char *path, const char *key, char *out, size_t size,
                               elang_error *err) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || json_string_length(v) >= size)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"%s\" must be a string of at most %zu bytes", path, key,
                          size - 1);
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return ELANG_OK;
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

static elang_status read_fields(json_t *root, const char *path, elang_calibration *c, elang_error *err) {
    char name[32];
    elang_status st;
    json_t *version = json_object_get(root, "elang_calibration");
    if (!json_is_integer(version) || json_integer_value(version) != 1)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: not an elang calibration file (version 1)", path);
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
        (st = get_string(root, path, "objective", c->objective, sizeof c->objective, err)) ||
        (st = get_string(root, path, "task", c->task, sizeof c->task, err)) ||
        (st = get_string(root, path, "data", c->data, sizeof c->data, err)) ||
        (st = get_string(root, path, "data_lines", c->data_lines, sizeof c->data_lines, err)) ||
        (st = get_string(root, path, "metric_name", c->metric_name, sizeof c->metric_name, err)))
        return st;
    json_t *beams = json_object_get(root, "num_beams"), *max_new = json_object_get(root, "max_new_tokens");
    if (!json_is_integer(beams) || json_integer_value(beams) < 1 || json_integer_value(beams) > 64)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"num_beams\" must be an integer from 1 to 64", path);
    if (!json_is_integer(max_new) || json_integer_value(max_new) < 1 || json_integer_value(max_new) > 4096)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"max_new_tokens\" must be an integer from 1 to 4096", path);
    c->num_beams = (int)json_integer_value(beams);
    c->max_new_tokens = (int)json_integer_value(max_new);
    if (!(c->temperature > 0.0))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"temperature\" must be positive", path);
    if ((st = get_string(root, path, "score", name, sizeof name, err))) return st;
    if (!elang_score_from_name(name, &c->score))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: unknown score \"%s\"", path, name);
    if ((st = get_string(root, path, "aggregation", name, sizeof name, err))) return st;
    if (!elang_aggregation_from_name(name, &c->aggregate))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: unknown aggregation \"%s\"", path, name);
    json_t *words = json_object_get(root, "label_words");
    if (!json_is_array(words) || json_array_size(words) > ELANG_MAX_LABEL_WORDS)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"label_words\" must be a list of at most %d words", path,
                          ELANG_MAX_LABEL_WORDS);
    c->num_label_words = (int)json_array_size(words);
    for (int i = 0; i < c->num_label_words; i++) {
        json_t *w = json_array_get(words, (size_t)i);
        if (!json_is_string(w) || json_string_length(w) >= sizeof c->label_words[i])
            return elang_fail(err, ELANG_ERR_FORMAT, "%s: label word %d must be a short string", path, i + 1);
        memcpy(c->label_words[i], json_string_value(w), json_string_length(w) + 1);
    }
    const char *sides[2] = {"swift", "super"};
    for (int s = 0; s < 2; s++) {
        json_t *m = json_object_get(root, sides[s]);
        if (!json_is_object(m)) return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"%s\" must be an object", path, sides[s]);
        char *dir = s == 0 ? c->swift_dir : c->super_dir, *hash = s == 0 ? c->swift_hash : c->super_hash;
        char *prefix = s == 0 ? c->swift_prefix : c->super_prefix;
        if ((st = get_string(m, path, "path", dir, sizeof c->swift_dir, err)) ||
            (st = get_string(m, path, "hash", hash, sizeof c->swift_hash, err)) ||
            (st = get_string(m, path, "prefix", prefix, sizeof c->swift_prefix, err)))
            return elang_error_prefix(err, "%s model: ", sides[s]);
    }
    return ELANG_OK;
}

elang_status elang_calibration_load(const char *path, elang_calibration *c, elang_error *err) {
    memset(c, 0, sizeof *c);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        FILE *probe = fopen(path, "r");
        if (!probe) return elang_fail(err, ELANG_ERR_IO, "cannot open calibration %s: %s", path, strerror(errno));
        fclose(probe);
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: malformed JSON at line %d, column %d: %s", path, je.line,
                          je.column, je.text);
    }
    elang_status st = json_is_object(root) ? read_fields(root, path, c, err)
                                           : elang_fail(err, ELANG_ERR_FORMAT, "%s: not a JSON object", path);
    json_decref(root);
    return st;
}

elang_status elang_calibration_check(const elang_calibration *c, const char *swift_dir, const char *super_dir,
                                     elang_error *err) {
    const char *dirs[2] = {swift_dir, super_dir}, *want[2] = {c->swift_hash, c->super_hash};
    const char *was[2] = {c->swift_dir, c->super_dir}, *role[2] = {"Swift", "Super"};
    for (int s = 0; s < 2; s++) {
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
