/* The encoder head (models/encoder_head.h) on the T5 fixture: its files
 * checked like every other weights (names, shapes, sizes, fields), its
 * score as the description says, and routing by it: inputs it sends to
 * Super never run Swift's decoder, inputs it keeps get Swift's answer. The
 * numbers of a trained head against PyTorch are in test_demo_models. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "elang.h"
#include "support.h"

#define D 32 /* the fixture's d_model */
#define H 4

static const char *const fixture_files[] = {"config.json", "model.safetensors", "spiece.model"};

/* A copy of the T5 fixture with a head whose dense layer is zero, so that
 * every input scores the same known value: hidden = relu(b1) = (1, 0, 2,
 * 0), y = w2·hidden + b2. `outputs` 1 makes a "score" head (y = 1·1 + 0.5·2
 * + 0.25 = 2.25), 3 a label-word head of the words negative, positive,
 * neutral (y = (2.25, -0.75, 2.5)). `tamper` changes one thing. */
static const char *head_dir(const char *name, int outputs, const char *tamper) {
    const char *dir = test_dir_copy(shared_path("fixtures/hf/t5"), name, fixture_files, 3);
    static float w1[H * D], b1[H] = {1, -1, 2, -3}, w2[3 * H] = {1, 0.5f, 0.5f, 0, -1, 0, 0, 0, 0, 0, 1, 0},
                 b2[3] = {0.25f, 0.25f, 0.5f};
    const int64_t w1_shape[2] = {H, strcmp(tamper, "shape") == 0 ? D + 1 : D}, b1_shape[1] = {H},
                  w2_shape[2] = {outputs, H}, b2_shape[1] = {outputs};
    static float extra[1];
    const int64_t extra_shape[1] = {1};
    tensor_spec t[5] = {
        {strcmp(tamper, "name") == 0 ? "dense.kernel" : "dense.weight", "F32", 2, w1_shape, w1,
         sizeof(float) * (size_t)H * (size_t)w1_shape[1]},
        {"dense.bias", "F32", 1, b1_shape, b1, sizeof b1},
        {"out.weight", "F32", 2, w2_shape, w2, sizeof(float) * (size_t)(outputs * H)},
        {"out.bias", "F32", 1, b2_shape, b2, sizeof(float) * (size_t)outputs},
        {"extra.weight", "F32", 1, extra_shape, extra, sizeof extra},
    };
    static float w1_big[H * (D + 1)];
    if (strcmp(tamper, "shape") == 0) t[0].data = w1_big;
    char path[1024];
    snprintf(path, sizeof path, "%s/elang_head.safetensors", dir);
    if (strcmp(tamper, "no-weights") != 0) write_safetensors(path, t, strcmp(tamper, "extra") == 0 ? 5 : 4);
    if (strcmp(tamper, "truncated") == 0) {
        size_t len;
        char *bytes = read_file_all(path, &len);
        write_file(path, bytes, len - 8);
        free(bytes);
    }
    char json[512];
    snprintf(json, sizeof json,
             "{\"elang_head\": 1, \"pooling\": \"mean\", \"hidden_size\": %d, \"activation\": \"%s\", "
             "\"predicts\": \"%s\"%s, \"description\": \"test head\"}",
             H, strcmp(tamper, "activation") == 0 ? "tanh" : "relu",
             outputs == 1 ? "score" : "label-word-logits",
             outputs == 1 ? "" : ", \"label_words\": [\"negative\", \"positive\", \"neutral\"]");
    if (strcmp(tamper, "no-json") != 0) test_dir_file(dir, "elang_head.json", json);
    return dir;
}

static elang_model *load_ok(const char *dir) {
    elang_model *m = NULL;
    elang_error err;
    elang_load_opts lo = {.threads = 1};
    if (elang_model_load(dir, &lo, &m, &err) != ELANG_OK) fail_msg("%s: %s", dir, err.message);
    return m;
}

static void expect_load_error(const char *dir, elang_status code, const char *needle) {
    elang_model *m = NULL;
    elang_error err;
    const elang_status st = elang_model_load(dir, NULL, &m, &err);
    if (st != code || !strstr(err.message, needle))
        fail_msg("loading %s: status %d, message \"%s\"; want %d with \"%s\"", dir, st, st ? err.message : "",
                 code, needle);
    assert_null(m);
}

static void loads_and_scores(void **s) {
    (void)s;
    elang_model *m = load_ok(head_dir("score", 1, ""));
    assert_true(elang_model_has_head(m));
    const elang_text in[3] = {{"translate English to German: a dog", NULL}, {"a cat sat on the mat", NULL}, {"x", NULL}};
    elang_answer a[3];
    elang_error err;
    elang_route_opts o = elang_route_opts_default();
    o.score = ELANG_SCORE_ENCODER_HEAD;
    assert_int_equal(elang_decision_of(m, &o), ELANG_DECIDE_BY_HEAD);
    assert_int_equal(elang_answer_decisions(m, in, NULL, 3, &o, a, NULL, &err), ELANG_OK);
    for (int i = 0; i < 3; i++) {
        assert_true(fabs(a[i].score - 2.25) < 1e-6);
        assert_true(fabs(a[i].scores[ELANG_SCORE_ENCODER_HEAD] - 2.25) < 1e-6);
        assert_true(isnan(a[i].scores[ELANG_SCORE_ENERGY]));
        assert_int_equal(a[i].label_id, -1);
        assert_null(a[i].gen.text);
        assert_true(a[i].input_tokens > 0);
        assert_int_equal(a[i].decoder_steps, 0);
    }
    elang_answers_free(a, 3);
    /* The head's cost: the encoder and 2·(H·D + 1·H) FLOPs of the head. */
    const double g = elang_model_head_gflops(m, 10);
    assert_true(g > 0.0 && g < elang_model_gflops(m, 10, 5));
    assert_true(elang_decision_gflops(m, ELANG_DECIDE_BY_HEAD, 10) == g);
    elang_model_free(m);

    /* A label-word head scores the energy of the words the routing names,
     * of its own: all of them, or a task's few (a multi-task Swift's head
     * predicts every task's words), in any order. */
    m = load_ok(head_dir("words", 3, ""));
    const char *all[3] = {"negative", "positive", "neutral"}, *some[2] = {"neutral", "negative"},
               *other[2] = {"negative", "yes"};
    o.label_words = all, o.num_label_words = 3;
    assert_int_equal(elang_decision_of(m, &o), ELANG_DECIDE_BY_HEAD);
    assert_int_equal(elang_answer_decisions(m, in, NULL, 1, &o, a, NULL, &err), ELANG_OK);
    assert_true(fabs(a[0].score - log(exp(2.25) + exp(-0.75) + exp(2.5))) < 1e-6);
    elang_answers_free(a, 1);
    o.label_words = some, o.num_label_words = 2;
    assert_int_equal(elang_answer_decisions(m, in, NULL, 1, &o, a, NULL, &err), ELANG_OK);
    assert_true(fabs(a[0].score - log(exp(2.5) + exp(2.25))) < 1e-6);
    elang_answers_free(a, 1);
    o.label_words = other;
    assert_int_equal(elang_answer_decisions(m, in, NULL, 1, &o, a, NULL, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "label word \"yes\" is not one the encoder head of "));
    assert_non_null(strstr(err.message, " predicts (negative, positive, neutral)"));
    o.label_words = NULL, o.num_label_words = 0;
    assert_int_equal(elang_answer_decisions(m, in, NULL, 1, &o, a, NULL, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "route with --label-words"));
    elang_model_free(m);

    /* Without a head, the score is refused, and elang_answer_all leaves it NaN. */
    m = load_ok(shared_path("fixtures/hf/t5"));
    assert_false(elang_model_has_head(m));
    o.label_words = NULL, o.num_label_words = 0;
    assert_int_equal(elang_answer_decisions(m, in, NULL, 1, &o, a, NULL, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "has no encoder head"));
    o = elang_route_opts_default();
    o.gen.max_new_tokens = 4;
    assert_int_equal(elang_answer_all(m, in, NULL, 1, &o, a, NULL, &err), ELANG_OK);
    assert_true(isnan(a[0].scores[ELANG_SCORE_ENCODER_HEAD]));
    elang_answers_free(a, 1);
    elang_model_free(m);
}

/* Every way a head's files can be wrong is an error that names it. */
static void refuses_bad_heads(void **s) {
    (void)s;
    expect_load_error(head_dir("shape", 1, "shape"), ELANG_ERR_FORMAT,
                      "elang_head.safetensors has shape [4, 33], expected [4, 32]");
    expect_load_error(head_dir("name", 1, "name"), ELANG_ERR_FORMAT, "dense.weight");
    expect_load_error(head_dir("extra", 1, "extra"), ELANG_ERR_FORMAT, "extra.weight");
    expect_load_error(head_dir("truncated", 1, "truncated"), ELANG_ERR_FORMAT, "truncated");
    expect_load_error(head_dir("activation", 1, "activation"), ELANG_ERR_FORMAT,
                      "elang_head.json: field \"activation\" is \"tanh\"; expected \"relu\"");
    expect_load_error(head_dir("no-weights", 1, "no-weights"), ELANG_ERR_IO, "elang_head.safetensors is missing");
    expect_load_error(head_dir("no-json", 1, "no-json"), ELANG_ERR_IO, "elang_head.json is missing");
    const char *dir = head_dir("fields", 1, "");
    test_dir_file(dir, "elang_head.json", "{\"elang_head\": 1, \"pooling\": \"mean\", \"hidden_size\": 4, "
                                          "\"activation\": \"relu\", \"predicts\": \"score\", \"colour\": 1}");
    expect_load_error(dir, ELANG_ERR_FORMAT, "elang_head.json: unknown field \"colour\"");
    test_dir_file(dir, "elang_head.json", "{\"elang_head\": 1, \"pooling\": \"mean\", \"activation\": \"relu\", "
                                          "\"predicts\": \"score\"}");
    expect_load_error(dir, ELANG_ERR_FORMAT, "field \"hidden_size\" must be a whole number");
    test_dir_file(dir, "elang_head.json", "{\"elang_head\": 1, \"pooling\": \"mean\", \"hidden_size\": 4, "
                                          "\"activation\": \"relu\", \"predicts\": \"label-word-logits\"}");
    expect_load_error(dir, ELANG_ERR_FORMAT, "needs \"label_words\"");
    dir = head_dir("twice", 3, "");
    test_dir_file(dir, "elang_head.json", "{\"elang_head\": 1, \"pooling\": \"mean\", \"hidden_size\": 4, "
                                          "\"activation\": \"relu\", \"predicts\": \"label-word-logits\", "
                                          "\"label_words\": [\"negative\", \"positive\", \"negative\"]}");
    expect_load_error(dir, ELANG_ERR_FORMAT, "label word \"negative\" is listed twice");
    /* A classifier has no decoder for a head to spare. */
    static const char *const bert_files[] = {"config.json", "model.safetensors", "vocab.txt"};
    dir = test_dir_copy(shared_path("fixtures/hf/bert"), "bert-head", bert_files, 3);
    test_dir_file(dir, "elang_head.json", "{}");
    expect_load_error(dir, ELANG_ERR_FORMAT, "heads are for encoder-decoders");
    /* Nor has a language model an encoder for one to read. */
    static const char *const gpt2_files[] = {"config.json", "model.safetensors", "vocab.json", "merges.txt",
                                             "tokenizer_config.json"};
    dir = test_dir_copy(shared_path("fixtures/hf/gpt2"), "gpt2-head", gpt2_files, 5);
    test_dir_file(dir, "elang_head.json", "{}");
    expect_load_error(dir, ELANG_ERR_FORMAT, "language model has no encoder for it to read");
}

/* Routing by the head: a threshold above its score sends every input to
 * Super before Swift's decoder runs (its matrix products are the encoder's
 * only, fewer than one generation's), one below keeps every input with
 * Swift's full answer and the head's score. */
static void routes_before_decoding(void **s) {
    (void)s;
    elang_model *swift = load_ok(head_dir("route", 1, "")), *super = load_ok(shared_path("fixtures/hf/t5"));
    const elang_text in[2] = {{"translate English to German: The house is wonderful.", NULL},
                              {"translate English to German: a dog", NULL}};
    elang_route_opts o = elang_route_opts_default();
    o.score = ELANG_SCORE_ENCODER_HEAD;
    o.gen.max_new_tokens = 8;
    elang_model *tiers[2] = {swift, super};
    elang_router *r;
    elang_route_out out[2];
    elang_error err;
    elang_profile before, after;

    double threshold = 3.0; /* above 2.25: everything to Super */
    assert_int_equal(elang_router_new(tiers, 2, &threshold, &o, &r, &err), ELANG_OK);
    elang_model_profile(swift, &before);
    assert_int_equal(elang_route(r, in, 2, out, &err), ELANG_OK);
    elang_model_profile(swift, &after);
    const long head_products = after.products - before.products;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(out[i].tier, 1);
        assert_null(out[i].answers[0].gen.text);
        assert_true(fabs(out[i].answers[0].score - 2.25) < 1e-6);
        assert_non_null(out[i].answers[1].gen.text);
    }
    elang_route_out_free(out, 2);
    elang_router_free(r);

    elang_gen_out g[2];
    elang_model_profile(swift, &before);
    assert_int_equal(elang_generate(swift, in, 2, &o.gen, g, &err), ELANG_OK);
    elang_model_profile(swift, &after);
    assert_true(head_products > 0 && head_products < after.products - before.products);

    threshold = 2.0; /* below: everything kept, with Swift's own answer */
    assert_int_equal(elang_router_new(tiers, 2, &threshold, &o, &r, &err), ELANG_OK);
    assert_int_equal(elang_route(r, in, 2, out, &err), ELANG_OK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(out[i].tier, 0);
        assert_string_equal(out[i].answers[0].gen.text, g[i].text);
        assert_true(fabs(out[i].answers[0].score - 2.25) < 1e-6);
        assert_false(isnan(out[i].answers[0].scores[ELANG_SCORE_ENERGY]));
    }
    elang_route_out_free(out, 2);
    elang_router_free(r);
    elang_gen_out_free(g, 2);

    /* A Swift without a head cannot route by it. */
    tiers[0] = super;
    assert_int_equal(elang_router_new(tiers, 2, &threshold, &o, &r, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "--score encoder-head needs an encoder head"));
    elang_model_free(swift), elang_model_free(super);
}

/* The CLI: `route --score encoder-head` prints no Swift text for the inputs
 * the head passed on, and is a usage error without a head. */
static void cli_routes_by_head(void **s) {
    (void)s;
    const char *dir = head_dir("cli", 1, "");
    char cmd[4096], *out, *err;
    snprintf(cmd, sizeof cmd, "echo '{\"text\": \"a dog\"}' | %s route --swift %s --super %s --score encoder-head "
             "--threshold 3 --max-new-tokens 4 --threads 1", elang_bin(), dir, shared_path("fixtures/hf/t5"));
    int rc = run_command(cmd, &out, &err);
    if (rc != 0) fail_msg("%s exited %d: %s", cmd, rc, err);
    assert_non_null(strstr(out, "\"route\":\"super\""));
    assert_non_null(strstr(out, "\"super_text\""));
    assert_non_null(strstr(out, "\"swift_text\":null")); /* never decoded */
    free(out), free(err);
    snprintf(cmd, sizeof cmd, "echo '{\"text\": \"a dog\"}' | %s route --swift %s --super %s --score encoder-head "
             "--threshold 3 --max-new-tokens 4", elang_bin(), shared_path("fixtures/hf/t5"),
             shared_path("fixtures/hf/t5"));
    assert_int_equal(run_command(cmd, &out, &err), 2);
    assert_non_null(strstr(err, "needs an encoder head"));
    free(out), free(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loads_and_scores),
        cmocka_unit_test(refuses_bad_heads),
        cmocka_unit_test(routes_before_decoding),
        cmocka_unit_test(cli_routes_by_head),
    };
    int failed = cmocka_run_group_tests_name("head", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
