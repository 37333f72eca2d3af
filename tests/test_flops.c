/* FLOPs model against hand-computed numbers (the arithmetic is in the
 * comments; every value is an exact integer in double precision). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "models/flops.h"

static void assert_flops(double got, double want) {
    if (got != want) fail_msg("got %.0f FLOPs, expected %.0f", got, want);
}

static void test_encoder_classifier_small(void **state) {
    (void)state;
    /* 1 layer, H = 2, I = 4, 1 head, C = 2, S = 3:
     * layer 2·3·(4·2² + 2·2·4) + 4·3²·2 = 6·32 + 72 = 264;
     * head 2·2² + 2·2·2 = 16; total 280. */
    flops_dims d = {.layers = 1, .hidden = 2, .intermediate = 4, .heads = 1, .num_labels = 2};
    assert_flops(flops_encoder_classifier(&d, 3), 280);
    /* Two layers double the encoder part only: 2·264 + 16. */
    d.layers = 2;
    assert_flops(flops_encoder_classifier(&d, 3), 544);
}

static void test_bert_base(void **state) {
    (void)state;
    /* bert-base: 12 layers, H = 768, I = 3072, 12 heads; SST-2 head C = 2;
     * S = 128. Per layer 2·128·(4·768² + 2·768·3072) + 4·128²·768
     * = 256·7077888 + 50331648 = 1862270976; ×12 = 22347251712;
     * head 2·768² + 2·768·2 = 1182720; total 22348434432 (≈ 22.3 GFLOPs,
     * the figure usually quoted for BERT-base at 128 tokens). */
    flops_dims d = {.layers = 12, .hidden = 768, .intermediate = 3072, .heads = 12,
                    .num_labels = 2};
    assert_flops(flops_encoder_classifier(&d, 128), 22348434432.0);
    /* The S² term: at S = 1 a layer is 2·(4·768² + 2·768·3072) + 4·768. */
    assert_flops(flops_encoder_classifier(&d, 1), 12 * (2.0 * 7077888 + 3072) + 1182720);
}

static void test_seq2seq_small(void **state) {
    (void)state;
    /* 1 + 1 layers, H = A = 2 (1 head), I = 3, plain FF, V = 5; S = 2, T = 3.
     * Encoder: 2·2·(4·2·2 + 2·2·3) + 4·2²·2 = 4·28 + 32 = 144.
     * Decoder layer: cross K, V once 2·2·2·2·2 = 32; per step
     * 2·(4·2·2 + 2·2·2) + 2·2·2·3 + 4·2·2 = 48 + 24 + 16 = 88, ×3 = 264;
     * self-attention 4·2·(1 + 2 + 3) = 48; layer total 344.
     * LM head 3·2·2·5 = 60. Total 144 + 344 + 60 = 548. */
    flops_dims d = {.layers = 1, .decoder_layers = 1, .hidden = 2, .intermediate = 3,
                    .heads = 1, .vocab = 5};
    assert_flops(flops_seq2seq(&d, 2, 3), 548);
    /* Gated FF: 3 H×I products instead of 2, i.e. +2·2·3 = 12 per token:
     * encoder +2·12, decoder +3·12; 548 + 24 + 36 = 608. */
    d.gated_ff = true;
    assert_flops(flops_seq2seq(&d, 2, 3), 608);
    /* No step: the encoder and the cross-attention K, V only: 168 + 32. */
    assert_flops(flops_seq2seq(&d, 2, 0), 200);
}

static void test_seq2seq_head_dim(void **state) {
    (void)state;
    /* T5-style attention narrower than the model: H = 4, 2 heads of d_kv 1,
     * so A = 2; I = 2, V = 10, 1 + 2 layers, S = 1, T = 2, plain FF.
     * Encoder: 2·1·(4·4·2 + 2·4·2) + 4·1·2 = 96 + 8 = 104.
     * Decoder layer: cross K, V 2·1·2·4·2 = 32; per step
     * 2·(4·4·2 + 2·4·2) + 2·2·4·2 + 4·1·2 = 96 + 32 + 8 = 136, ×2 = 272;
     * self-attention 4·2·(1 + 2) = 24; layer 328, ×2 layers = 656.
     * LM head 2·2·4·10 = 160. Total 104 + 656 + 160 = 920. */
    flops_dims d = {.layers = 1, .decoder_layers = 2, .hidden = 4, .intermediate = 2,
                    .heads = 2, .head_dim = 1, .vocab = 10};
    assert_flops(flops_seq2seq(&d, 1, 2), 920);
}

static void test_t5_small(void **state) {
    (void)state;
    /* t5-small (6 + 6 layers, d_model 512, d_ff 2048, 8 heads of d_kv 64,
     * vocab 32128) translating 20 tokens into 20.
     * Encoder: 6·(20·(2·4·512² + 2·2·512·2048) + 4·20²·512)
     *        = 6·(20·6291456 + 819200) = 759889920.
     * Decoder layer: cross K, V 2·20·2·512² = 20971520; per step
     * 2·6·512² + 2·2·512·2048 + 4·20·512 = 3145728 + 4194304 + 40960
     * = 7380992, ×20 = 147619840; self-attention 4·512·(1 + ... + 20)
     * = 430080; layer 169021440, ×6 = 1014128640.
     * LM head 20·2·512·32128 = 657981440, 27% of the total 2432000000. */
    flops_dims d = {.layers = 6, .decoder_layers = 6, .hidden = 512, .intermediate = 2048,
                    .heads = 8, .head_dim = 64, .vocab = 32128};
    assert_flops(flops_seq2seq(&d, 20, 20), 2432000000.0);
    /* One more step adds its per-step work, 4·21·512 of self-attention in
     * each layer, and one LM head. */
    assert_flops(flops_seq2seq(&d, 20, 21) - flops_seq2seq(&d, 20, 20),
                 6 * (7380992.0 + 4 * 21 * 512) + 2.0 * 512 * 32128);
}

static void test_causal_small(void **state) {
    (void)state;
    /* 1 layer, H = 4, 2 heads of 2 (A = 4), 1 key/value head (K = 2),
     * SwiGLU I = 3 (3 products), V = 10; a prompt of S = 2, 3 new tokens.
     * Per token: 2·(2·4·4 + 2·4·2) + 3·2·4·3 = 96 + 72 = 168.
     * Prefill: 2·168 + 4·2²·4 + LM head 2·4·10 = 336 + 64 + 80 = 480.
     * Steps 1 and 2 attend to 3 and 4 keys: 2·168 + 4·4·(3 + 4) + 2·80
     * = 336 + 112 + 160 = 608. Total 1088. */
    flops_dims d = {.layers = 1, .hidden = 4, .intermediate = 3, .heads = 2, .head_dim = 2, .kv_heads = 1,
                    .vocab = 10, .gated_ff = true};
    assert_flops(flops_causal(&d, 2, 3), 1088);
    /* The first new token alone (a decision on the prompt): the prefill. */
    assert_flops(flops_causal(&d, 2, 1), 480);
    /* Without grouped-query attention K = A: 2·(2·4·4 + 2·4·4) = 128 per
     * token instead of 96, 32 more on each of the 2 + 2 tokens run. */
    d.kv_heads = 0;
    assert_flops(flops_causal(&d, 2, 3), 1088 + 4 * 32);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoder_classifier_small),
        cmocka_unit_test(test_bert_base),
        cmocka_unit_test(test_seq2seq_small),
        cmocka_unit_test(test_seq2seq_head_dim),
        cmocka_unit_test(test_t5_small),
        cmocka_unit_test(test_causal_small),
    };
    return cmocka_run_group_tests_name("flops", tests, NULL, NULL);
}
