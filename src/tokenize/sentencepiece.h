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
 * added tokens; the special tokens and `</s>` are the tokenizer's job
 * (subword.h).
 */
#ifndef ELANG_TOKENIZE_SENTENCEPIECE_H
#define ELANG_TOKENIZE_SENTENCEPIECE_H

#include <stdbool.h>

#include "elang.h"
#include "tokenize/subword.h"

/* dir/spiece.model. Missing: ELANG_ERR_IO; not a SentencePiece model:
 * ELANG_ERR_FORMAT with sentencepiece's message. */
elang_status sentencepiece_load_t5(const char *dir, int extra_ids, subword_model *out,
                                   elang_error *err);

/* dir/source.spm, dir/target.spm and dir/vocab.json, and with
 * separate_vocabs (tokenizer_config.json) dir/target_vocab.json, whose ids
 * are the ones decoded. Errors as above and as tok_vocab_load_json's. */
elang_status sentencepiece_load_marian(const char *dir, bool separate_vocabs, subword_model *out,
                                       elang_error *err);

/* dir/SENTENCEPIECE_XLMR_FILE, for XLMRobertaTokenizer. Errors as
 * sentencepiece_load_t5's. */
#define SENTENCEPIECE_XLMR_FILE "sentencepiece.bpe.model"
elang_status sentencepiece_load_xlmr(const char *dir, subword_model *out, elang_error *err);

/* dir/SENTENCEPIECE_LLAMA_FILE, for LlamaTokenizer (transformers 4.48,
 * byte fallback as the model has it). With legacy false (the
 * tokenizer_config.json of every recent checkpoint) the model loads
 * without its dummy prefix, and with add_prefix_space the tokenizer puts
 * "▁" before the text itself, spaces becoming "▁" (prepare), and tokenizes
 * a chunk that starts with one behind the unk token's pieces, dropping
 * them, so that SentencePiece keeps it; legacy true is SentencePiece as
 * it is. Errors as sentencepiece_load_t5's. */
#define SENTENCEPIECE_LLAMA_FILE "tokenizer.model"
elang_status sentencepiece_load_llama(const char *dir, bool legacy, bool add_prefix_space, subword_model *out,
                                      elang_error *err);

/* What the models do besides SentencePiece's own encoding and decoding:
 *
 * - token_id: T5's <extra_id_N> and XLM-R's <s> <pad> </s> <unk> <mask>
 *   included.
 * - size: T5's pieces + extra ids, len(vocab.json), XLM-R's pieces + 2
 *   (the offset of one, and <mask>).
 * - tokenize: the context's unk_id is what Marian gives pieces vocab.json
 *   lacks and XLM-R pieces SentencePiece does not know (T5 uses the model's
 *   own unknown piece, as piece_to_id does). Only running out of memory
 *   fails (a loaded SentencePiece model fails for nothing else).
 * - detokenize: T5 and Marian copy the special tokens as they are instead
 *   of passing them to SentencePiece (XLM-R treats every token alike). */

#endif
