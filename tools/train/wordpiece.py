"""A WordPiece vocabulary built from training text, and the BertTokenizer
that uses it.

Tokenization is BertTokenizer's, taken from the repository's stdlib reference
(tools/reference/bert_tokenizer_ref.py, written from the algorithm and checked
against transformers' own output): lowercase, strip accents, split off every
punctuation character, then greedy longest-match WordPiece.

The vocabulary is learned the way WordPiece vocabularies are usually learned
in practice (as Hugging Face's `tokenizers` WordPiece trainer does), by
byte-pair-style merges over the words of the text:

  1. Pre-tokenize every training text as BertTokenizer does and count the
     words.
  2. Spell each word as its first character followed by its other
     characters prefixed with "##" ("film" -> f ##i ##l ##m). The starting
     vocabulary is the five special tokens, then every character seen, in
     both forms (c and ##c), sorted.
  3. Repeatedly merge the adjacent pair of symbols that occurs most often
     (counting each word by its frequency; ties go to the pair that sorts
     first), e.g. f + ##i -> fi, ##l + ##m -> ##lm, adding the merged
     symbol to the vocabulary, until the vocabulary has the size asked for or
     no pair occurs twice.

The order of vocab.txt is that order: [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3,
[MASK]=4, the characters, then the merged symbols in the order they were
made. Everything is deterministic.
"""

import collections
import heapq
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))

from bert_tokenizer_ref import Bert, split_specials  # noqa: E402

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
TOKENIZER_CONFIG = {"do_lower_case": True, "model_max_length": 128}


class BasicTokenizer(Bert):
    """The reference tokenizer's first half (cleaning, lowercasing, accent
    stripping, punctuation splitting) with the settings of
    TOKENIZER_CONFIG, needing no vocabulary."""

    def __init__(self):  # pylint: disable=super-init-not-called
        self.lower, self.strip, self.chinese = True, None, True

    def words_of(self, text):
        """The words BertTokenizer would hand to WordPiece, as Bert.tokenize
        produces them."""
        out = []
        for special, piece in split_specials(text):
            if special:
                out.append(piece)
            else:
                out += self.words("".join(ch.lower() for ch in piece))
        return out


def _pairs(symbols):
    return list(zip(symbols, symbols[1:]))


def _merge(symbols, a, b, merged):
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
            out.append(merged)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def build_vocab(texts, size):
    """The vocabulary (a list of tokens, index = id) of at most `size`
    tokens learned from `texts`, as described in the module docstring."""
    basic = BasicTokenizer()
    counts = collections.Counter(w for t in texts for w in basic.words_of(t) if w not in SPECIALS)
    words = sorted(counts)
    freq = [counts[w] for w in words]
    symbols = [[w[0]] + ["##" + c for c in w[1:]] for w in words]

    alphabet = sorted({c for w in words for c in w})
    vocab = SPECIALS + alphabet + ["##" + c for c in alphabet]
    known = set(vocab)

    pair_count = collections.Counter()
    where = collections.defaultdict(set)  # pair -> indices of the words holding it
    for i, syms in enumerate(symbols):
        for p in _pairs(syms):
            pair_count[p] += freq[i]
            where[p].add(i)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)

    while len(vocab) < size and heap:
        neg, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -neg:
            continue  # a stale entry: the pair's count changed since it was pushed
        if -neg < 2:
            break
        a, b = pair
        merged = a + b[2:]
        if merged not in known:
            vocab.append(merged)
            known.add(merged)
        changed = set()
        for i in sorted(where[pair]):
            old = _pairs(symbols[i])
            for p in old:
                pair_count[p] -= freq[i]
                where[p].discard(i)
            symbols[i] = _merge(symbols[i], a, b, merged)
            new = _pairs(symbols[i])
            for p in new:
                pair_count[p] += freq[i]
                where[p].add(i)
            changed.update(old, new)
        for p in changed:
            if pair_count[p] > 0:
                heapq.heappush(heap, (-pair_count[p], p))
            else:
                del pair_count[p]
    return vocab


def write_vocab(model_dir, vocab):
    """vocab.txt (one token a line) and tokenizer_config.json."""
    with open(os.path.join(model_dir, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(tok + "\n" for tok in vocab))
    with open(os.path.join(model_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        f.write('{"do_lower_case": true, "model_max_length": %d}\n' % TOKENIZER_CONFIG["model_max_length"])


def load_tokenizer(model_dir):
    """BertTokenizer over a model directory's vocab.txt and tokenizer_config.json;
    .encode(text, None, max_length) gives ([CLS] ... [SEP] ids, token types)."""
    return Bert(model_dir)
