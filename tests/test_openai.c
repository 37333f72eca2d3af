/* OpenAI's completions protocol, unit by unit: the client's URL, request
 * body and reading of answers (choices matched to prompts by their index,
 * every malformed answer refused with the URL and what was missing), the
 * server's parsing of completions requests (every field it cannot honour
 * refused by name) and its answer (stop strings cut, finish reasons,
 * usage). The end-to-end exchanges are in test_serve.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "serve/openai.h"
#include "serve/openai_remote.h"
#include "serve/request.h"

#define URL "http://127.0.0.1:9/v1/completions"

static void completions_url_from_the_server_url(void **s) {
    (void)s;
    const char *cases[][2] = {
        {"http://h:8000", "http://h:8000/v1/completions"},
        {"http://h:8000/", "http://h:8000/v1/completions"},
        {"https://api.example.com/v1", "https://api.example.com/v1/completions"},
        {"http://h/prefix/v1/", "http://h/prefix/v1/completions"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *url = NULL;
        assert_int_equal(openai_completions_url(cases[k][0], &url, NULL), ELANG_OK);
        assert_string_equal(url, cases[k][1]);
        free(url);
    }
    elang_error err;
    char *url = NULL;
    assert_int_equal(openai_completions_url("h:8000", &url, &err), ELANG_ERR_INVALID_ARG);
    assert_null(url);
    assert_non_null(strstr(err.message, "http://HOST:PORT; got 'h:8000'"));
}

static void request_body_holds_the_routed_prompts(void **s) {
    (void)s;
    const elang_text in[3] = {{"zero", NULL}, {"one", NULL}, {"two \"quoted\"", NULL}};
    const size_t idx[2] = {2, 0};
    const char *stop[2] = {"\n", "."};
    openai_request q = {.model = "big", .max_tokens = 7};
    char *body = openai_request_body(&q, in, idx, 2);
    assert_string_equal(body, "{\"model\":\"big\",\"prompt\":[\"two \\\"quoted\\\"\",\"zero\"],\"max_tokens\":7,"
                              "\"temperature\":0}");
    free(body);
    q.stop = stop, q.num_stop = 2;
    body = openai_request_body(&q, in, idx, 1);
    assert_string_equal(body, "{\"model\":\"big\",\"prompt\":[\"two \\\"quoted\\\"\"],\"max_tokens\":7,"
                              "\"temperature\":0,\"stop\":[\"\\n\",\".\"]}");
    free(body);
}

/* Choices listed out of order land on their prompts by index. */
static void answers_are_matched_by_index(void **s) {
    (void)s;
    const size_t idx[3] = {4, 1, 2}; /* the routed inputs' places in the batch */
    elang_answer out[5];
    memset(out, 0, sizeof out);
    const char reply[] = "{\"id\":\"x\",\"choices\":[{\"index\":2,\"text\":\" two\",\"finish_reason\":\"stop\"},"
                         "{\"index\":0,\"text\":\" zero\"},{\"text\":\" one\",\"index\":1}],\"usage\":{}}";
    assert_int_equal(openai_read_answer(URL, reply, strlen(reply), idx, 3, out, NULL), ELANG_OK);
    assert_string_equal(out[4].gen.text, " zero");
    assert_string_equal(out[1].gen.text, " one");
    assert_string_equal(out[2].gen.text, " two");
    assert_null(out[0].gen.text), assert_null(out[3].gen.text);
    assert_int_equal(out[4].label_id, -1);
    assert_null(out[4].gen.ids);
    elang_answers_free(out, 5);
}

static void malformed_answers_name_the_url_and_the_fault(void **s) {
    (void)s;
    const size_t idx[2] = {0, 1};
    const struct {
        const char *reply, *says;
    } cases[] = {
        {"{\"choices\": [", "answered malformed JSON"},
        {"{\"error\": {\"message\": \"nope\"}}", "answered without a \"choices\" array"},
        {"{\"choices\": {\"0\": {\"text\": \"a\"}}}", "answered without a \"choices\" array"},
        {"{\"choices\": [{\"index\": 0, \"text\": \"a\"}]}", "answered 1 choices to 2 prompts"},
        {"{\"choices\": [{\"index\": 0, \"text\": \"a\"}, {\"index\": 1, \"text\": \"b\"}, {\"index\": 1, \"text\": "
         "\"c\"}]}", "answered 3 choices to 2 prompts"},
        {"{\"choices\": [{\"index\": 0, \"text\": \"a\"}, {\"text\": \"b\"}]}", "choice 1 without an \"index\" from 0 to 1"},
        {"{\"choices\": [{\"index\": 0, \"text\": \"a\"}, {\"index\": 2, \"text\": \"b\"}]}", "without an \"index\""},
        {"{\"choices\": [{\"index\": 0, \"text\": \"a\"}, {\"index\": \"1\", \"text\": \"b\"}]}", "without an \"index\""},
        {"{\"choices\": [{\"index\": 1, \"text\": \"a\"}, {\"index\": 1, \"text\": \"b\"}]}", "two choices with \"index\" 1"},
        {"{\"choices\": [{\"index\": 0, \"text\": \"a\"}, {\"index\": 1, \"text\": null}]}",
         "choice 1 (index 1) without a string \"text\""},
        {"{\"choices\": [{\"index\": 0, \"text\": [\"a\"]}, {\"index\": 1, \"text\": \"b\"}]}", "without a string \"text\""},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        elang_answer out[2];
        memset(out, 0, sizeof out);
        elang_error err = {.item = -1};
        const elang_status st = openai_read_answer(URL, cases[k].reply, strlen(cases[k].reply), idx, 2, out, &err);
        if (st != ELANG_ERR_FORMAT || strncmp(err.message, URL " answered", strlen(URL " answered")) != 0 ||
            !strstr(err.message, cases[k].says))
            fail_msg("case %zu: status %d, \"%s\"; want a format error \"%s ... %s\"", k, (int)st, err.message, URL,
                     cases[k].says);
        elang_answers_free(out, 2); /* what was read before the fault */
    }
}

static int parse(const char *body, parsed_request *r, char *why) {
    return request_parse(body, strlen(body), LAYOUT_OPENAI, false, 0, r, why, 600);
}

static void completions_requests_parse(void **s) {
    (void)s;
    parsed_request r;
    char why[600];
    assert_int_equal(parse("{\"model\": \"m\", \"prompt\": \"Once\", \"temperature\": 0, \"n\": 1, \"stream\": false, "
                           "\"logprobs\": null, \"echo\": false, \"top_p\": 1, \"user\": \"u\"}", &r, why), 0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.texts[0].text, "Once");
    assert_null(r.texts[0].text_pair);
    assert_string_equal(r.model, "m");
    assert_int_equal(r.max_tokens, 0);
    assert_int_equal(r.num_stop, 0);
    parsed_request_free(&r);
    assert_int_equal(parse("{\"prompt\": [\"a\", \"\", \"c\"], \"max_tokens\": 5, \"stop\": [\".\", \"\\n\"]}", &r, why), 0);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.texts[1].text, "");
    assert_null(r.model);
    assert_int_equal(r.max_tokens, 5);
    assert_int_equal(r.num_stop, 2);
    assert_string_equal(r.stop[0], "."), assert_string_equal(r.stop[1], "\n");
    parsed_request_free(&r);
    assert_int_equal(parse("{\"prompt\": \"a\", \"stop\": \"END\", \"max_tokens\": null, \"stop_token\": 3}", &r, why), 0);
    assert_int_equal(r.num_stop, 1);
    assert_string_equal(r.stop[0], "END");
    parsed_request_free(&r);

    const struct {
        const char *body, *says;
    } refused[] = {
        {"{\"model\": \"m\"}", "field \"prompt\" is missing"},
        {"{\"prompt\": 3}", "field \"prompt\" is neither a string nor an array"},
        {"{\"prompt\": []}", "\"prompt\" is empty"},
        {"{\"prompt\": [[15496, 11]]}", "prompt 0 is not a string (prompts of token ids are not supported)"},
        {"{\"prompt\": [\"a\", 7]}", "prompt 1 is not a string"},
        {"{\"prompt\": \"a\\u0000b\"}", "prompt 0 contains a NUL"},
        {"{\"prompt\": \"a\", \"model\": 1}", "field \"model\" must be a string"},
        {"{\"prompt\": \"a\", \"max_tokens\": 0}", "\"max_tokens\" must be a whole number from 1 to 4096"},
        {"{\"prompt\": \"a\", \"max_tokens\": 4097}", "\"max_tokens\" must be a whole number from 1 to 4096"},
        {"{\"prompt\": \"a\", \"max_tokens\": 2.5}", "\"max_tokens\" must be a whole number"},
        {"{\"prompt\": \"a\", \"stop\": 1}", "field \"stop\" must be a string or an array of strings"},
        {"{\"prompt\": \"a\", \"stop\": [\"1\", \"2\", \"3\", \"4\", \"5\"]}", "field \"stop\" holds 5 strings; at most 4"},
        {"{\"prompt\": \"a\", \"stop\": \"\"}", "stop string 0 must be a non-empty string"},
        {"{\"prompt\": \"a\", \"stop\": [\"x\", 2]}", "stop string 1 must be a non-empty string"},
        {"{\"prompt\": \"a\", \"temperature\": 0.7}", "field \"temperature\": elang decodes greedily"},
        {"{\"prompt\": \"a\", \"temperature\": \"0\"}", "field \"temperature\""},
        {"{\"prompt\": \"a\", \"top_p\": 0.9}", "field \"top_p\""},
        {"{\"prompt\": \"a\", \"n\": 2}", "field \"n\": greedy decoding gives one completion per prompt"},
        {"{\"prompt\": \"a\", \"best_of\": 3}", "field \"best_of\""},
        {"{\"prompt\": \"a\", \"stream\": true}", "field \"stream\": streaming is not supported"},
        {"{\"prompt\": \"a\", \"echo\": true}", "field \"echo\""},
        {"{\"prompt\": \"a\", \"logprobs\": 2}", "field \"logprobs\" is not supported"},
        {"{\"prompt\": \"a\", \"suffix\": \"b\"}", "field \"suffix\" is not supported"},
        {"[\"a\"]", "the body must be a JSON object"},
    };
    for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++) {
        why[0] = '\0';
        const int st = parse(refused[k].body, &r, why);
        if (st != 400 || !strstr(why, refused[k].says))
            fail_msg("case %zu (%s): %d \"%s\"; want 400 \"%s\"", k, refused[k].body, st, why, refused[k].says);
    }
}

/* The server's answer: the text before the first stop string; "length"
 * only for an answer that took every token without a stop string; usage
 * summed over the prompts. */
static void completion_answers_cut_stops_and_count(void **s) {
    (void)s;
    float energies[4] = {1, 2, 3, 4};
    task_result res[3];
    memset(res, 0, sizeof res);
    res[0].gen = (elang_gen_out){.text = "Hello. World\n", .num_steps = 4, .num_input_ids = 3, .energy = 2.5,
                                 .score = -1.5, .token_energies = energies};
    res[1].gen = (elang_gen_out){.text = "no stop here", .num_steps = 4, .num_input_ids = 5,
                                 .token_energies = energies};
    res[2].gen = (elang_gen_out){.text = "short", .num_steps = 2, .num_input_ids = 1, .token_energies = energies};
    const serve_target t = {.name = "gpt2", .key = {.kind = TASK_GENERATE}};
    const char *stop[2] = {"\n", "."};
    const openai_completion_info info = {.id = "cmpl-1", .created = 1700000000, .max_new_tokens = 4, .stop = stop,
                                         .num_stop = 2};
    json_t *j = openai_completion(&t, res, 3, &info);
    char *got = json_dumps(j, JSON_COMPACT);
    assert_string_equal(got,
                        "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1700000000,\"model\":\"gpt2\","
                        "\"choices\":[{\"index\":0,\"text\":\"Hello\",\"finish_reason\":\"stop\",\"logprobs\":null,"
                        "\"elang\":{\"score\":-1.5,\"energy\":2.5}},{\"index\":1,\"text\":\"no stop here\","
                        "\"finish_reason\":\"length\",\"logprobs\":null,\"elang\":{\"score\":0.0,\"energy\":0.0}},"
                        "{\"index\":2,\"text\":\"short\",\"finish_reason\":\"stop\",\"logprobs\":null,\"elang\":"
                        "{\"score\":0.0,\"energy\":0.0}}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":10,"
                        "\"total_tokens\":19}}");
    free(got), json_decref(j);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(completions_url_from_the_server_url),
        cmocka_unit_test(request_body_holds_the_routed_prompts),
        cmocka_unit_test(answers_are_matched_by_index),
        cmocka_unit_test(malformed_answers_name_the_url_and_the_fault),
        cmocka_unit_test(completions_requests_parse),
        cmocka_unit_test(completion_answers_cut_stops_and_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
