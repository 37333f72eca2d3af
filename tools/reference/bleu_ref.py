#!/usr/bin/env python3
"""Reference corpus BLEU and chrF, Python 3 stdlib only, written from the
sacreBLEU 2.x algorithms (metrics/bleu.py, metrics/chrf.py,
tokenizers/tokenizer_13a.py) with sacreBLEU's defaults: 13a tokenization,
mixed case, max n-gram order 4, 'exp' smoothing, no effective order; chrF
with character order 6, word order 0, beta 2, whitespace removed, effective
order averaging (no eps smoothing). Corpus scores come from statistics summed
over the sentences, as sacreBLEU computes them.

sacreBLEU cannot be installed here, so before writing anything this script
checks that it reproduces every number sacreBLEU's documentation and tests
publish (see DOCUMENTED below; it stops on the first mismatch). Only then does
it write the expectations for tests/test_bleu.c:

  bleu_ref.py SHARED_DATA_DIR OUT.jsonl

Rows of OUT.jsonl:
  {"tokenize": TEXT, "tokens": TOKENIZED}             13a edge cases
  {"file": F, "line": N, "bleu": [...], "chrf": [...]} one sentence's statistics
  {"file": F, "corpus_bleu": B, "corpus_chrf": C}      the corpus scores
where the hypotheses are a deterministic corruption of the reference file F
(see corrupt()) scored against F itself; the files are re-read by the test.
BLEU statistics are [hyp_len, ref_len, correct_1..4, total_1..4]; chrF
statistics are [hyp_n, ref_n, match_n] for n = 1..6, flattened.
"""

import json
import math
import os
import re
import sys
from collections import Counter

# ----------------------------------------------------------------- 13a

# mteval-v13a's language-dependent rules, in the order applied. The first
# class is the ASCII symbols except ' , - . ; the period and comma are split
# off unless they sit next to a digit; a dash is split off after a digit.
_13A_RULES = [
    (re.compile(r"([{-~\[-` -&(-+:-@/])"), r" \1 "),
    (re.compile(r"([^0-9])([.,])"), r"\1 \2 "),
    (re.compile(r"([.,])([^0-9])"), r" \1 \2"),
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),
]


def tokenize_13a(line):
    line = line.rstrip()  # BLEU._preprocess_segment strips before tokenizing
    for old, new in (("<skipped>", ""), ("-\n", ""), ("\n", " ")):
        line = line.replace(old, new)
    if "&" in line:
        for old, new in (("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">")):
            line = line.replace(old, new)
    line = " " + line + " "
    for pattern, repl in _13A_RULES:
        line = pattern.sub(repl, line)
    return " ".join(line.split())


# ----------------------------------------------------------------- BLEU

def word_ngrams(tokens, max_order):
    grams = Counter()
    for n in range(1, max_order + 1):
        for i in range(len(tokens) - n + 1):
            grams[tuple(tokens[i:i + n])] += 1
    return grams


def bleu_stats(hyp, refs, max_order=4):
    """[hyp_len, ref_len, correct_1.., total_1..] of one sentence. Several
    references: n-gram counts clipped by their maximum over the references,
    reference length the closest to the hypothesis (the shorter on a tie)."""
    hyp_tokens = tokenize_13a(hyp).split()
    ref_grams, ref_lens = Counter(), []
    for ref in refs:
        tokens = tokenize_13a(ref).split()
        ref_lens.append(len(tokens))
        for gram, count in word_ngrams(tokens, max_order).items():
            ref_grams[gram] = max(ref_grams[gram], count)
    hyp_len = len(hyp_tokens)
    ref_len = min(ref_lens, key=lambda r: (abs(hyp_len - r), r))
    correct, total = [0] * max_order, [0] * max_order
    for gram, count in word_ngrams(hyp_tokens, max_order).items():
        total[len(gram) - 1] += count
        correct[len(gram) - 1] += min(count, ref_grams[gram])
    return [hyp_len, ref_len] + correct + total


def bleu_score(stats, max_order=4, smooth="exp", effective_order=False):
    """(score, precisions, bp) from summed statistics."""
    hyp_len, ref_len = stats[0], stats[1]
    correct, total = stats[2:2 + max_order], stats[2 + max_order:2 + 2 * max_order]
    bp = 1.0
    if hyp_len < ref_len:
        bp = math.exp(1 - ref_len / hyp_len) if hyp_len > 0 else 0.0
    precisions = [0.0] * max_order
    if not any(correct):
        return 0.0, precisions, bp
    halvings, order = 1.0, max_order
    for n in range(max_order):
        if total[n] == 0:
            break
        if effective_order:
            order = n + 1
        if correct[n] == 0:
            if smooth == "exp":
                halvings *= 2
                precisions[n] = 100.0 / (halvings * total[n])
        else:
            precisions[n] = 100.0 * correct[n] / total[n]
    # sacreBLEU's log floors log(0) at -9999999999, which makes the score 0.
    logs = [math.log(p) if p > 0 else -9999999999 for p in precisions[:order]]
    return bp * math.exp(sum(logs) / order), precisions, bp


def sum_stats(rows):
    return [sum(col) for col in zip(*rows)]


def corpus_bleu(hyps, ref_streams, **kw):
    max_order = kw.pop("max_order", 4)
    rows = [bleu_stats(h, [r for r in refs if r is not None], max_order)
            for h, refs in zip(hyps, zip(*ref_streams))]
    stats = sum_stats(rows)
    return bleu_score(stats, max_order, **kw), stats


# ----------------------------------------------------------------- chrF

def char_ngrams(text, n, whitespace):
    if not whitespace:
        text = "".join(text.split())
    return Counter(text[i:i + n] for i in range(len(text) - n + 1))


def chrf_f(stats, beta=2, eps_smoothing=False):
    """chrF from [hyp, ref, match] triples, one per order."""
    orders = len(stats) // 3
    factor = beta ** 2
    eps = 1e-16
    eps_sum, avg_p, avg_r, effective = 0.0, 0.0, 0.0, 0
    for n in range(orders):
        hyp, ref, match = stats[3 * n:3 * n + 3]
        p = match / hyp if hyp > 0 else eps
        r = match / ref if ref > 0 else eps
        denom = factor * p + r
        eps_sum += (1 + factor) * p * r / denom if denom > 0 else eps
        if hyp > 0 and ref > 0:
            avg_p += p
            avg_r += r
            effective += 1
    if eps_smoothing:
        return 100 * eps_sum / orders
    if effective == 0:
        return 0.0
    avg_p /= effective
    avg_r /= effective
    if avg_p + avg_r == 0:
        return 0.0
    return 100 * (1 + factor) * avg_p * avg_r / (factor * avg_p + avg_r)


def chrf_stats(hyp, refs, order=6, beta=2, whitespace=False, eps_smoothing=False):
    """Statistics against the reference with the best sentence chrF."""
    best, best_f = None, -1.0
    for ref in refs:
        stats = []
        for n in range(1, order + 1):
            h, r = char_ngrams(hyp, n, whitespace), char_ngrams(ref, n, whitespace)
            match = sum(min(c, r[g]) for g, c in h.items())
            # A hypothesis n-gram only counts when the reference has n-grams.
            stats += [sum(h.values()) if r else 0, sum(r.values()), match]
        f = chrf_f(stats, beta, eps_smoothing)
        if f > best_f:
            best, best_f = stats, f
    return best


def corpus_chrf(hyps, ref_streams, beta=2, whitespace=False, eps_smoothing=False):
    rows = [chrf_stats(h, [r for r in refs if r is not None], 6, beta, whitespace, eps_smoothing)
            for h, refs in zip(hyps, zip(*ref_streams))]
    stats = sum_stats(rows)
    return chrf_f(stats, beta, eps_smoothing), stats


# ------------------------------------------------------ documented numbers

README_REFS = [
    ["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
    ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."],
]
README_SYS = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."]
ISSUE98_REF = "producţia de zahăr brut se exprimă în zahăr alb;"
ISSUE98_SYS = "Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;"
CARD_HYPS = ["The relationship between cats and dogs is not exactly friendly.",
             "a good bookshop is just a genteel black hole that knows how to read."]
CARD_REFS = [["The relationship between dogs and cats is not exactly friendly.",
              "A good bookshop is just a genteel Black Hole that knows how to read."]]
CZECH = [
    ("Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.",
     "Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.",
     39.14078509),
    ("Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.",
     "A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři.",
     31.22557079),
    ("Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.",
     "Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli.",
     57.15704367),
]


def check(what, got, want, tol):
    if abs(got - want) > tol:
        sys.exit(f"MISMATCH {what}: got {got!r}, documented {want!r}")


def check_documented():
    """Every published sacreBLEU number this reference can reproduce."""
    # sacreBLEU README "Using SacreBLEU from Python" (two references):
    # BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)
    # and test/test_bleu.py test_corpus_bleu_cases: 48.530827 within 1e-8.
    (score, prec, bp), stats = corpus_bleu(README_SYS, README_REFS)
    check("README BLEU", score, 48.530827, 1e-6)
    assert [f"{p:.1f}" for p in prec] == ["82.4", "50.0", "45.5", "37.5"], prec
    assert f"{bp:.3f}" == "0.943" and stats[:2] == [17, 18], (bp, stats)
    # README "Variable Number of References": '' for the first reference.
    refs = [[""] + README_REFS[0][1:], README_REFS[1]]
    (score, prec, bp), stats = corpus_bleu(README_SYS, refs)
    assert f"{score:.2f}" == "29.44" and stats[:2] == [17, 19], (score, stats)
    assert [f"{p:.1f}" for p in prec] == ["82.4", "42.9", "27.3", "12.5"], prec
    # test_bleu.py: empty hypotheses score 0; max_ngram_order 1..6.
    check("empty hyps", corpus_bleu(["", "", ""], README_REFS)[0][0], 0.0, 0)
    for order, want in zip(range(1, 7), ["77.65", "60.50", "53.93", "48.53", "46.14", "43.28"]):
        got = corpus_bleu(README_SYS, README_REFS, max_order=order)[0][0]
        assert f"{got:.2f}" == want, (order, got)
    # test_bleu.py test_case_statistics (no punctuation: 13a changes nothing).
    stats = bleu_stats("am I am a character sequence", ["I am a symbol string sequence a a"])
    assert stats[2:] == [4, 2, 1, 0, 6, 5, 4, 3], stats
    # test_bleu.py test_case_scoring: compute_bleu([9,7,5,3], [10,8,6,4], 11, 11).
    check("scoring", bleu_score([11, 11, 9, 7, 5, 3, 10, 8, 6, 4])[0] / 100, 0.8375922397, 1e-8)
    # test_bleu.py test_raw_bleu_cases[0]: no match at all scores 0.
    check("no match", corpus_bleu(["this is a test", "another test"], [["ref1", "ref2"]])[0][0], 0, 0)
    # test/test_sentence_bleu.py, issue #98 (effective order; 13a): exp 8.493, none 0.0.
    stats = bleu_stats(ISSUE98_SYS, [ISSUE98_REF])
    check("#98 exp", bleu_score(stats, effective_order=True)[0], 8.493, 1e-3)
    check("#98 none", bleu_score(stats, smooth="none", effective_order=True)[0], 0.0, 1e-3)
    # ...and the corpus score without effective order is the same (no order is empty).
    check("#98 corpus", bleu_score(stats)[0], 8.493, 1e-3)

    # sacreBLEU README: chrF2 = 59.73 on the two-reference example.
    assert f"{corpus_chrf(README_SYS, README_REFS)[0]:.2f}" == "59.73"
    # datasets metric card for chrf (sacreBLEU defaults, one reference).
    check("card chrF", corpus_chrf(CARD_HYPS, CARD_REFS)[0], 84.64214891738334, 1e-9)
    check("card chrF 1", corpus_chrf(
        ["The relationship between Obama and Netanyahu is not exactly friendly."],
        [["The ties between Obama and Netanyahu are not particularly friendly."]])[0],
        61.576379378113785, 1e-9)
    # test/test_chrf.py (EPSILON 1e-4): beta 3, effective order.
    for hyps, refs, want in [(["a"], ["a"], 100.0), ([""], ["reference"], 0.0),
                             (["a b c"], ["a b c"], 100.0), (["a b c"], ["abc"], 100.0),
                             ([""], ["c"], 0.0), (["a", "b"], ["a", "c"], 50.0),
                             (["aa"], ["ab"], 25.0)]:
        check(f"chrF eff {hyps}", corpus_chrf(hyps, [refs], beta=3)[0], want, 1e-4)
    # ...beta 3 with eps smoothing.
    for hyps, refs, want in [
            (["abcdefg"], ["hijklmnop"], 0.0), (["a"], ["b"], 0.0), ([""], ["b"], 0.0),
            ([""], ["ref"], 0.0), ([""], ["reference"], 0.0), (["aa"], ["ab"], 8.3333),
            (["a", "b"], ["a", "c"], 8.3333), (["a"], ["a"], 16.6667), (["a b c"], ["a b c"], 50.0),
            (["a b c"], ["abc"], 50.0),
            ([" risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists ."],
             ["risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists ."], 63.361730),
            ([" Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. "],
             ["Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."], 64.1302698),
            (["Niemand hat die Absicht, eine Mauer zu errichten"], ["Niemand hat die Absicht, eine Mauer zu errichten"], 100.0)]:
        check(f"chrF eps {hyps}", corpus_chrf(hyps, [refs], beta=3, eps_smoothing=True)[0], want, 1e-4)
    # ...beta 3 keeping whitespace.
    for hyps, refs, want in [
            (["Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich."],
             ["Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."], 67.3481606),
            (["risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists ."],
             ["risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists ."], 65.2414427)]:
        check(f"chrF ws {hyps}", corpus_chrf(hyps, [refs], beta=3, whitespace=True)[0], want, 1e-4)
    # ...sentence level, beta 2, eps smoothing (Czech: multi-byte characters).
    for hyp, ref, want in CZECH:
        check("chrF Czech", chrf_f(chrf_stats(hyp, [ref], eps_smoothing=True), 2, True), want, 1e-4)


# ------------------------------------------------------ the expectations

# 13a edge cases: entities (replaced in order, so "&amp;lt;" becomes "<"),
# <skipped>, "-\n", periods and commas next to digits, a dash after a digit,
# the apostrophe left alone, non-ASCII punctuation left alone, Unicode
# whitespace (NBSP, U+2009, U+3000, U+001C) splitting tokens, trailing
# whitespace and "-" before it.
TOKENIZE_CASES = [
    "The dog bit the man.",
    "It wasn't surprising... (really?) \"no\" {x|y} [a\\b] ^_` ~#$%&*+<=>@/",
    "&quot;quoted&quot; &amp;amp; &amp;lt;tag&amp;gt; &lt;b&gt; AT&T &unknown;",
    "pre<skipped>post <skipped> word-\nnext line\nbreak",
    "1,000.50 and 3.14, 2.x .5 5. ,7 a,b a.b U.S.A. e.g., etc.",
    "1-2 a-b 3- -4 x-5 1999-2000 --",
    "Straße „Anführungszeichen“ – Gedankenstrich … «guillemets» ’apostroph’",
    "nbsp\u00a0thin\u2009ideographic\u3000sep\u001cend",
    "trailing -   \t",
    "  ",
    "",
    "a.,b ,.c 9., ,9 9,9,9 ..,,",
]


def corrupt(ref, i):
    """The hypothesis made from reference line i (0-based): every 5th word
    dropped, the first two words swapped on every 3rd line, and every 10th
    line empty. Words are split on single spaces, so that the C test can
    build the same strings."""
    if i % 10 == 9:
        return ""
    words = [w for k, w in enumerate(ref.split(" ")) if k % 5 != 4]
    if i % 3 == 0 and len(words) >= 2:
        words[0], words[1] = words[1], words[0]
    return " ".join(words)


CORPORA = ["multi30k/test_2016_flickr.de", "wmt21/newstest2021.en-de.de"]


def read_lines(path):
    """Lines as sacreBLEU reads them: split on "\\n" only."""
    with open(path, encoding="utf-8", newline="\n") as f:
        text = f.read()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def main(data_dir, out):
    check_documented()
    print("reproduces every documented sacreBLEU number")
    rows = [{"tokenize": t, "tokens": tokenize_13a(t)} for t in TOKENIZE_CASES]
    for name in CORPORA:
        refs = read_lines(os.path.join(data_dir, name))
        hyps = [corrupt(r, i) for i, r in enumerate(refs)]
        bleu_rows, chrf_rows = [], []
        for i, (h, r) in enumerate(zip(hyps, refs)):
            b, c = bleu_stats(h, [r]), chrf_stats(h, [r])
            bleu_rows.append(b)
            chrf_rows.append(c)
            rows.append({"file": name, "line": i + 1, "bleu": b, "chrf": c})
        rows.append({"file": name, "corpus_bleu": bleu_score(sum_stats(bleu_rows))[0],
                     "corpus_chrf": chrf_f(sum_stats(chrf_rows))})
        print(f"{name}: {len(refs)} lines, BLEU {rows[-1]['corpus_bleu']:.4f}, "
              f"chrF {rows[-1]['corpus_chrf']:.4f}")
    with open(out, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=True, separators=(",", ":")) + "\n")
    print(f"wrote {len(rows)} rows to {out}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
