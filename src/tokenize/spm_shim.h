/* A C face for libsentencepiece (C++): what T5Tokenizer and MarianTokenizer
 * call on their SentencePieceProcessor, and nothing else. Every function
 * catches C++ exceptions; strings handed out are malloc'ed. */
#ifndef ELANG_TOKENIZE_SPM_SHIM_H
#define ELANG_TOKENIZE_SPM_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct spm_model spm_model;

typedef enum { SPM_OK, SPM_ERR_IO, SPM_ERR_FORMAT, SPM_ERR_NOMEM } spm_status;

/* SentencePieceProcessor.Load(path). On failure *out is NULL and msg (of
 * msg_size bytes) holds sentencepiece's message; SPM_ERR_IO when the file
 * cannot be read, SPM_ERR_FORMAT when it is not a valid model. */
spm_status spm_load(const char *path, spm_model **out, char *msg, size_t msg_size);
/* The same with the model's normalizer_spec.add_dummy_prefix set false, as
 * LlamaTokenizer (legacy=False) loads its tokenizer.model: it puts the
 * leading "▁" itself. */
spm_status spm_load_without_dummy_prefix(const char *path, spm_model **out, char *msg, size_t msg_size);
void spm_free(spm_model *m);

/* get_piece_size(), and piece_to_id() of piece[0..len) (the unknown
 * piece's id for a string that is no piece) / IdToPiece() for
 * 0 <= id < spm_piece_count(). */
int spm_piece_count(const spm_model *m);
int32_t spm_piece_id(const spm_model *m, const char *piece, size_t len);
const char *spm_id_piece(const spm_model *m, int32_t id);
/* The id of the unknown piece. */
int32_t spm_unk_id(const spm_model *m);

/* encode(text, out_type=str) of text[0..len): *n pieces, NUL-terminated
 * one after the other in *pieces. */
spm_status spm_encode(const spm_model *m, const char *text, size_t len, char **pieces, size_t *n);

/* decode_pieces(pieces[0..n)) into *text, NUL-terminated. A string that is
 * no piece comes out as it is, ▁ and all. */
spm_status spm_decode(const spm_model *m, const char *const *pieces, size_t n, char **text);

#ifdef __cplusplus
}
#endif

#endif
