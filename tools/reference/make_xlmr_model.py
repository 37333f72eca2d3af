#!/usr/bin/python3
"""Trains the small SentencePiece BPE model that stands in for XLM-R's
sentencepiece.bpe.model in the tests (tests/data/xlmr/). No XLM-R checkpoint
is small enough to ship, and the tests must not depend on a download.

The training text is the project's own: examples/*.txt, examples/*.en and
700 sentences made here from hand-written word lists (English and German
captions and film reviews), a little French, and a handful of hand-written
lines that use every printable ASCII character and the accented letters.
None of it comes from shared/data, which the expectations are computed on.

The trainer settings mirror XLM-R's model where it matters to the
tokenizer: a BPE model, <unk> = 0, <s> = 1, </s> = 2 and no <pad> piece
(SentencePiece's defaults, which XLMRobertaTokenizer's fairseq alignment
assumes), the default nmt_nfkc normalization with a dummy "▁" prefix and
collapsed whitespace. character_coverage 1.0 keeps every character of the
training text, so the characters it never saw (emoji, CJK, ...) are
unknown: the tests need those too.

Usage (from the repository root, with Debian's python3-sentencepiece):
    /usr/bin/python3 tools/reference/make_xlmr_model.py tests/data/xlmr
writes tests/data/xlmr/sentencepiece.bpe.model. The committed model is the
one the expectations were computed with; training is single-threaded and
seeded, so this reproduces it byte for byte with SentencePiece 0.1.97.
"""

import glob
import io
import os
import random
import sys

import sentencepiece

VOCAB_SIZE = 1000
SENTENCES = 700
SEED = 20221201

EN_SUBJECTS = [  # (singular, plural)
    ("man", "men"), ("woman", "women"), ("child", "children"), ("dog", "dogs"),
    ("girl", "girls"), ("boy", "boys"), ("worker", "workers"), ("player", "players"),
    ("cyclist", "cyclists"), ("musician", "musicians"), ("tourist", "tourists"),
    ("person", "people"), ("cat", "cats"), ("horse", "horses"), ("chef", "chefs"),
]
EN_ADJECTIVES = ["young", "old", "tall", "small", "smiling", "tired", "happy", "bearded",
                 "blond", "busy", "little", "brown", "black", "white", "red"]
EN_ACTIONS = ["walking", "running", "sitting", "standing", "playing", "jumping", "climbing",
              "waiting", "riding a bike", "eating lunch", "reading a book", "talking",
              "dancing", "swimming", "cooking", "painting a wall", "holding a ball",
              "looking at the camera", "wearing a blue shirt", "carrying a bag"]
EN_PLACES = ["on the street", "in the park", "at the beach", "near a fountain",
             "in front of a building", "on a bench", "in the snow", "by the river",
             "inside a kitchen", "on the grass", "under a tree", "at the market",
             "in a crowded room", "on a stage", "next to the water", "in the city"]
EN_NUMBERS = ["Two", "Three", "Four", "Several", "Many", "Some", "Five"]

DE_SUBJECTS = [  # (singular with article, plural with number word)
    ("Ein Mann", "Zwei Männer"), ("Eine Frau", "Zwei Frauen"), ("Ein Kind", "Drei Kinder"),
    ("Ein Hund", "Zwei Hunde"), ("Ein Mädchen", "Vier Mädchen"), ("Ein Junge", "Zwei Jungen"),
    ("Ein Arbeiter", "Mehrere Arbeiter"), ("Eine Gruppe", "Viele Leute"),
    ("Ein älterer Mann", "Fünf Personen"), ("Eine junge Frau", "Einige Touristen"),
]
DE_ACTIONS = [  # (singular, plural)
    ("läuft", "laufen"), ("steht", "stehen"), ("sitzt", "sitzen"), ("spielt", "spielen"),
    ("springt", "springen"), ("wartet", "warten"), ("fährt Fahrrad", "fahren Fahrrad"),
    ("isst", "essen"), ("liest ein Buch", "lesen ein Buch"), ("tanzt", "tanzen"),
    ("schwimmt", "schwimmen"), ("kocht", "kochen"), ("trägt eine Tasche", "tragen Taschen"),
    ("schaut in die Kamera", "schauen in die Kamera"), ("klettert", "klettern"),
]
DE_PLACES = ["auf der Straße", "im Park", "am Strand", "vor einem Gebäude", "auf einer Bank",
             "im Schnee", "am Fluss", "in einer Küche", "auf dem Gras", "unter einem Baum",
             "auf dem Markt", "in einem vollen Raum", "auf einer Bühne", "neben dem Wasser",
             "in der Stadt", "über die Brücke", "durch den Wald"]

REVIEW_SUBJECTS = ["The film", "This movie", "The script", "The acting", "The story",
                   "The soundtrack", "The ending", "The first hour", "The cast", "The director"]
REVIEW_ADJECTIVES = ["wonderful", "dull", "charming", "clumsy", "moving", "predictable",
                     "funny", "tedious", "beautiful", "messy", "smart", "forgettable",
                     "brilliant", "awkward", "honest", "overlong", "gripping", "flat"]
REVIEW_TAILS = ["but it never quite comes together", "and it knows exactly what it wants",
                "though the jokes fall flat", "and the performances are strong",
                "but the pacing drags in the middle", "and I would watch it again",
                "yet something is missing", "so don't expect too much",
                "and it's worth every minute", "but it isn't the disaster critics said",
                "which makes the second half a chore", "and the camera work is superb"]

FR_SENTENCES = [
    "Un homme marche dans la rue.", "Une femme lit un livre au café.",
    "Deux enfants jouent près de la fontaine.", "Le chien court sur la plage.",
    "C'est un très beau film, à voir absolument.", "L'été dernier, nous sommes allés à Paris.",
    "Le garçon mange une pomme à l'école.", "Où est la gare, s'il vous plaît ?",
]

# Lines that use the rarer characters, so that they have pieces: every
# printable ASCII character, – ’ € and the accented letters.
HAND_WRITTEN = [
    "The ticket costs $12 & the popcorn costs $5.50 (too much, if you ask me).",
    "Use the tag #film_night when you post; it's at 8:30 p.m.",
    "She typed `print(x)` = \"hello\" / \"world\" and hit Enter.",
    "Scores: 7/10, 8.5/10 and 9/10 – not bad at all!",
    "He said: \"It’s fine, really,\" but nobody believed him.",
    "In 1999, 2004 and 2016 the team won 3-1, 2-0 and 4-2.",
    "Mr. Smith, Dr. Jones & Co. met on 12/05/2021 at 10:45.",
    "Ein Café in Köln, eine Straße in München – schön, oder?",
    "Müller, Schröder und Weiß wohnen über dem Bäcker.",
    "Die Größe der Äpfel überrascht die Kinder; sie essen sie sofort.",
    "Übung macht den Meister, sagt der Lehrer zu Jürgen.",
    "Résumé, café, naïve, déjà vu, façade, rôle, crème brûlée.",
    "ÄÖÜ äöü ß É é È è À à Ç ç Ô ô Û û Î î Ë ë Ï ï ñ Ñ",
    "Questions? Answers! Lists; colons: dashes - and – brackets (like these).",
    "What's the price? $3,000,000 – or is it 3.000.000 €?",
    "#1 on the list: \"The Big Sleep\" (1946), rated 9/10.",
    "file_name_v2 = `draft` / final_version_3",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG; the quick brown fox jumps over the lazy dog.",
    "Math: 2 + 2 = 4, 3 * 5 = 15, 10 % 3 = 1, 2^8 = 256, a < b > c, x ~ y, [1] {2} |3| @home \\.",
]


def generate(rng, n):
    """n sentences from the word lists above, a fixed mix of kinds."""
    out = []
    for k in range(n):
        kind = k % 5
        if kind in (0, 1):
            singular, plural = rng.choice(EN_SUBJECTS)
            adjective = rng.choice(EN_ADJECTIVES)
            if rng.random() < 0.5:
                article = "An" if adjective[0] in "aeiou" else "A"
                subject, verb = f"{article} {adjective} {singular}", "is"
            else:
                subject, verb = f"{rng.choice(EN_NUMBERS)} {adjective} {plural}", "are"
            out.append(f"{subject} {verb} {rng.choice(EN_ACTIONS)} {rng.choice(EN_PLACES)}.")
        elif kind in (2, 3):
            singular, plural = rng.choice(DE_SUBJECTS)
            action = rng.choice(DE_ACTIONS)
            if rng.random() < 0.5:
                out.append(f"{singular} {action[0]} {rng.choice(DE_PLACES)}.")
            else:
                out.append(f"{plural} {action[1]} {rng.choice(DE_PLACES)}.")
        else:
            subject = rng.choice(REVIEW_SUBJECTS)
            text = f"{subject} is {rng.choice(REVIEW_ADJECTIVES)}, {rng.choice(REVIEW_TAILS)}"
            if rng.random() < 0.5:
                text = text.lower()
            out.append(text + rng.choice([".", "!", " .", " ..."]))
    return out


def main(out_dir):
    rng = random.Random(SEED)
    sentencepiece.set_random_generator_seed(SEED)
    lines = []
    for path in sorted(glob.glob("examples/*.txt")) + sorted(glob.glob("examples/*.en")):
        with open(path, encoding="utf-8") as f:
            lines += [line for line in f.read().split("\n") if line.strip()]
    lines += HAND_WRITTEN + FR_SENTENCES + generate(rng, SENTENCES)
    # Sentences in and the model out through memory, so that no file name
    # ends up in the model's trainer_spec.
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, model_type="bpe",
        vocab_size=VOCAB_SIZE, character_coverage=1.0, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        num_threads=1, shuffle_input_sentence=False, minloglevel=2)
    path = os.path.join(out_dir, "sentencepiece.bpe.model")
    with open(path, "wb") as f:
        f.write(model.getvalue())
    print(f"trained on {len(lines)} lines: {path}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
