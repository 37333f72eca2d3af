/* Long runs of characters that no token holds, cut short before
 * SentencePiece sees them.
 *
 * SentencePiece gives every such character the unknown piece and then
 * merges a run of them into one piece by appending, one character at a
 * time, to a string it copies whole each time (PopulateSentencePieceText):
 * time quadratic in the run's length, some 17 s for 333,000 CJK characters
 * on a vocabulary without them. The run's piece has the unknown id however
 * long it is, so a run can be cut to its first UNKNOWN_RUN_KEEP characters
 * and the ids stay what the whole text gives, when the run's characters are
 * in no piece, no token looked up and no rule of the normalizer
 * (spm_known_chars), and are not the space:
 *  - normalization copies each one as it is (no rule matches at it, none
 *    reaches into it from before), so the normalized text has the same run,
 *    cut;
 *  - no piece of the segmentation (unigram lattice or BPE merges) reaches
 *    into the run, so the text on either side is segmented as before;
 *  - the merged piece, looked up as a string, holds a character no token
 *    holds: unknown both ways; T5's "<extra_id_N>" test reads at most 19
 *    bytes of it, fewer than the kept characters.
 */
#ifndef ELANG_TOKENIZE_UNKNOWN_RUNS_H
#define ELANG_TOKENIZE_UNKNOWN_RUNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UNKNOWN_RUN_KEEP 32

typedef struct {
    uint8_t *known; /* [0x110000 / 8] bit c: code point c must not be cut; NULL: cut nothing */
} unknown_runs;

/* Every code point unknown, to be marked known. False when out of memory. */
bool unknown_runs_init(unknown_runs *u);

/* Marks code point c of the unknown_runs u known (spm_known_chars' mark). */
void unknown_runs_mark(void *u, int32_t c);

/* Marks the characters of the UTF-8 token[0..len) known (a byte that is not
 * UTF-8 marks none). */
void unknown_runs_mark_token(unknown_runs *u, const char *token, size_t len);

/* Cuts every run of more than UNKNOWN_RUN_KEEP unknown characters down to
 * its first UNKNOWN_RUN_KEEP, in the valid UTF-8 text[0..len), in place;
 * returns the new length. */
size_t unknown_runs_cut(const unknown_runs *u, char *text, size_t len);

void unknown_runs_free(unknown_runs *u);

#endif
