/* Unicode as the Python tokenizers see it.
 *
 * Text is decoded once into code points and every tokenizer works on those.
 * The character classes below are the ones the reference code tests, each
 * named after the Python construct it reproduces; all properties come from
 * utf8proc (whose Unicode version may be newer than the Python that produced
 * a model's expected outputs: only characters assigned in between can
 * differ).
 */
#ifndef ELANG_UTIL_UNICODE_H
#define ELANG_UTIL_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/i32vec.h"
#include "util/strbuf.h"

/* Appends the code points of the UTF-8 bytes s[0..len) to out. Overlong
 * forms, surrogates, code points past U+10FFFF and truncated sequences are
 * invalid: returns false with *bad_offset the byte offset of the offending
 * sequence (out then holds the code points before it), or false with
 * *bad_offset == SIZE_MAX when out of memory. A NULL out only validates. */
bool utf8_decode(const char *s, size_t len, i32vec *out, size_t *bad_offset);

/* bytes.decode("utf-8", errors="replace"): appends bytes[0..n) to out
 * with every ill-formed sequence replaced by U+FFFD, one per maximal
 * subpart as CPython does (a lead byte and the continuation bytes that
 * could still follow it; any other stray byte alone). False when out of
 * memory. */
bool utf8_decode_replace(const unsigned char *bytes, size_t n, strbuf *out);

/* Writes the UTF-8 form of cps[0..n) to out, which must hold 4 * n bytes;
 * returns the number of bytes written. When off is not NULL, off[i] gets the
 * byte offset of cps[i] and off[n] the total. */
size_t utf8_encode(const int32_t *cps, size_t n, char *out, size_t *off);

/* str.isspace(): general category Zs or bidirectional class WS, B or S.
 * Used wherever the reference calls str.split(), strip() or isspace(). */
bool uni_py_isspace(int32_t c);

/* `\s` of the third-party `regex` module that GPT-2 and RoBERTa use: the
 * Unicode White_Space property, which is str.isspace() without the
 * information separators U+001C..U+001F. */
bool uni_white_space(int32_t c);

bool uni_is_letter(int32_t c); /* \p{L} */
bool uni_is_number(int32_t c); /* \p{N} */

/* len(unicodedata.normalize("NFKD", text)) of the valid UTF-8 text: the
 * most characters NFKC (and SentencePiece's rules after it) can make of it,
 * one character becoming up to 18 (U+FDFA). */
size_t utf8_nfkd_length(const char *text);

/* str.lower() of one character into out; returns 1 or 2 (U+0130 is the one
 * character whose lowercase is two code points). */
int uni_py_lower(int32_t c, int32_t out[2]);

/* unicodedata.normalize("NFD", ...) of cps[0..n), appended to out, with the
 * nonspacing marks (Mn) dropped: BasicTokenizer._run_strip_accents. False
 * when out of memory. */
bool uni_strip_accents(const int32_t *cps, size_t n, i32vec *out);

/* unicodedata.normalize("NFC", ...) of text, in place (Qwen2Tokenizer's
 * prepare_for_tokenization). False when out of memory. */
bool uni_nfc(i32vec *text);

#endif
