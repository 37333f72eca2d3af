/* T5Tokenizer, MarianTokenizer and XLMRobertaTokenizer (transformers 4.25,
 * Python): text to pieces with a SentencePiece model (libsentencepiece,
 * through spm_shim.h), pieces to ids by the tokenizer's own rules, and back.
 *
 * - T5: spiece.model; a piece's id is its SentencePiece id, and above the
 *   pieces come `extra_ids` sentinels, <extra_id_0> being the last id.
 * - Marian: source.spm splits the text, vocab.json numbers the pieces
 *   (a piece it lacks is <unk>), target.spm joins decoded pieces.
 * - XLM-R: sentencepiece.bpe.model, its ids aligned with fairseq's
 *   dictionary: <s> <pad> </s> <unk> are 0-3, every other piece has its
 *   SentencePiece id + 1, and <mask> follows the last piece.
 *
 * Like wordpiece.h and bpe.h, this layer sees one chunk of text between
 * added tokens; the special tokens and `</s>` are tokenizer.c's job.
 */
#ifndef ELANG_TOKENIZE_SENTENCEPIECE_H
#define ELANG_TOKENIZE_SENTENCEPIECE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elang.h"
#include "util/i32vec.h"
#include "util/strbuf.h"

typedef struct sentencepiece sentencepiece;

/* dir/spiece.model. Missing: ELANG_ERR_IO; not a SentencePiece model:
 * ELANG_ERR_FORMAT with sentencepiece's message. */
elang_status sentencepiece_load_t5(const char *dir, int extra_ids, sentencepiece **out,
                                   elang_error *err);

/* dir/source.spm, dir/target.spm and dir/vocab.json, and with
 * separate_vocabs (tokenizer_config.json) dir/target_vocab.json, whose ids
 * are the ones decoded. Errors as above and as tok_vocab_load_json's. */
elang_status sentencepiece_load_marian(const char *dir, bool separate_vocabs,
                                       sentencepiece **out, elang_error *err);

/* dir/SENTENCEPIECE_XLMR_FILE, for XLMRobertaTokenizer. Errors as
 * sentencepiece_load_t5's. */
#define SENTENCEPIECE_XLMR_FILE "sentencepiece.bpe.model"
elang_status sentencepiece_load_xlmr(const char *dir, sentencepiece **out, elang_error *err);
void sentencepiece_free(sentencepiece *sp);

/* _convert_token_to_id for a token the vocabulary has, or -1 (T5's
 * <extra_id_N> and XLM-R's <s> <pad> </s> <unk> <mask> included). */
int32_t sentencepiece_token_id(const sentencepiece *sp, const char *token, size_t len);
/* _convert_id_to_token: the token with this id, or NULL. */
const char *sentencepiece_id_token(const sentencepiece *sp, int32_t id);
/* The tokenizer's vocab_size: T5's pieces + extra ids, len(vocab.json),
 * XLM-R's pieces + 2 (the offset of one, and <mask>). */
int sentencepiece_vocab_size(const sentencepiece *sp);

/* _tokenize + _convert_token_to_id of cps[0..n): appends the ids to ids.
 * unk_id is the tokenizer's unk_token_id, which Marian gives pieces
 * vocab.json lacks and XLM-R pieces SentencePiece does not know (T5 uses
 * the model's own unknown piece, as piece_to_id does). False only when out
 * of memory (a loaded SentencePiece model fails for nothing else). */
bool sentencepiece_tokenize(const sentencepiece *sp, const int32_t *cps, size_t n,
                            int32_t unk_id, i32vec *ids);

/* convert_tokens_to_string: appends the text of tokens[0..n) to out.
 * special[i] says whether tokens[i] is one of the special tokens, which T5
 * and Marian copy as they are instead of passing them to SentencePiece
 * (XLM-R treats every token alike). */
elang_status sentencepiece_detokenize(const sentencepiece *sp, const char *const *tokens,
                                      const bool *special, size_t n, strbuf *out,
                                      elang_error *err);

#endif
