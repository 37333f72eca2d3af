#include "util/unicode.h"

#include <utf8proc.h>

bool utf8_decode(const char *s, size_t len, i32vec *out, size_t *bad_offset) {
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t c;
        utf8proc_ssize_t got = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);
        if (got <= 0) {
            *bad_offset = i;
            return false;
        }
        if (out && !i32vec_push(out, c)) {
            *bad_offset = SIZE_MAX;
            return false;
        }
        i += (size_t)got;
    }
    return true;
}

bool utf8_decode_replace(const unsigned char *bytes, size_t n, strbuf *out) {
    static const char replacement[] = "\xEF\xBF\xBD";
    for (size_t i = 0; i < n;) {
        unsigned b = bytes[i];
        /* The continuation bytes b needs, and the range its first one must
         * lie in (narrower after E0, ED, F0, F4: no overlong forms, no
         * surrogates, nothing past U+10FFFF). */
        size_t need = 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (b >= 0xC2 && b <= 0xDF) {
            need = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            need = 2;
            if (b == 0xE0) lo = 0xA0;
            if (b == 0xED) hi = 0x9F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            need = 3;
            if (b == 0xF0) lo = 0x90;
            if (b == 0xF4) hi = 0x8F;
        }
        size_t j = i + 1, got = 0;
        for (; got < need && j < n; j++, got++)
            if (bytes[j] < (got ? 0x80 : lo) || bytes[j] > (got ? 0xBF : hi)) break;
        bool ok = b < 0x80 || (need > 0 && got == need);
        if (!strbuf_append(out, ok ? (const char *)bytes + i : replacement, ok ? j - i : 3))
            return false;
        i = j;
    }
    return true;
}

size_t utf8_encode(const int32_t *cps, size_t n, char *out, size_t *off) {
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (off) off[i] = len;
        len += (size_t)utf8proc_encode_char(cps[i], (utf8proc_uint8_t *)out + len);
    }
    if (off) off[n] = len;
    return len;
}

bool uni_py_isspace(int32_t c) {
    const utf8proc_property_t *p = utf8proc_get_property(c);
    return p->category == UTF8PROC_CATEGORY_ZS || p->bidi_class == UTF8PROC_BIDI_CLASS_WS ||
           p->bidi_class == UTF8PROC_BIDI_CLASS_B || p->bidi_class == UTF8PROC_BIDI_CLASS_S;
}

bool uni_white_space(int32_t c) {
    return uni_py_isspace(c) && !(c >= 0x1C && c <= 0x1F);
}

bool uni_is_letter(int32_t c) {
    utf8proc_category_t k = utf8proc_category(c);
    return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

bool uni_is_number(int32_t c) {
    utf8proc_category_t k = utf8proc_category(c);
    return k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO;
}

size_t utf8_nfkd_length(const char *text) {
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
    size_t n = 0;
    utf8proc_int32_t c, parts[32];
    utf8proc_ssize_t got;
    while (*p && (got = utf8proc_iterate(p, -1, &c)) > 0) {
        int boundclass = 0;
        utf8proc_ssize_t k = utf8proc_decompose_char(c, parts, 32, UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT, &boundclass);
        n += k > 0 ? (size_t)k : 1;
        p += got;
    }
    return n;
}

int uni_py_lower(int32_t c, int32_t out[2]) {
    /* Python applies SpecialCasing.txt; its only unconditional lowercase
     * entry is U+0130 -> "i" + COMBINING DOT ABOVE. (The conditional Final
     * Sigma rule never fires in the tokenizers: PreTrainedTokenizer lowercases
     * one character at a time.) */
    if (c == 0x130) {
        out[0] = 'i';
        out[1] = 0x307;
        return 2;
    }
    out[0] = utf8proc_tolower(c);
    return 1;
}

bool uni_strip_accents(const int32_t *cps, size_t n, i32vec *out) {
    /* utf8proc_decompose both decomposes and puts combining marks in
     * canonical order, which is what NFD means; it reads UTF-8. */
    char *utf8 = malloc(4 * n + 1);
    if (!utf8) return false;
    size_t len = utf8_encode(cps, n, utf8, NULL);
    size_t start = out->len;
    utf8proc_ssize_t got;
    for (;;) {
        size_t room = out->cap - out->len;
        got = utf8proc_decompose((const utf8proc_uint8_t *)utf8, (utf8proc_ssize_t)len,
                                 out->v ? out->v + out->len : NULL, (utf8proc_ssize_t)room,
                                 UTF8PROC_DECOMPOSE);
        if (got < 0 || (size_t)got <= room) break;
        if (!i32vec_reserve(out, (size_t)got)) {
            free(utf8);
            return false;
        }
    }
    free(utf8);
    if (got < 0) return false; /* cannot happen: the input was decoded from valid UTF-8 */
    size_t kept = start;
    for (size_t i = start; i < start + (size_t)got; i++)
        if (utf8proc_category(out->v[i]) != UTF8PROC_CATEGORY_MN) out->v[kept++] = out->v[i];
    out->len = kept;
    return true;
}

bool uni_nfc(i32vec *text) {
    if (text->len == 0) return true;
    char *utf8 = malloc(4 * text->len + 1);
    if (!utf8) return false;
    const size_t len = utf8_encode(text->v, text->len, utf8, NULL);
    const int opts = UTF8PROC_STABLE | UTF8PROC_COMPOSE;
    i32vec out = {0};
    utf8proc_ssize_t got;
    for (;;) {
        const size_t room = out.cap;
        got = utf8proc_decompose((const utf8proc_uint8_t *)utf8, (utf8proc_ssize_t)len, out.v,
                                 (utf8proc_ssize_t)room, opts);
        if (got < 0 || (size_t)got <= room) break;
        if (!i32vec_reserve(&out, (size_t)got)) {
            free(utf8);
            return false;
        }
    }
    free(utf8);
    if (got < 0) { /* cannot happen: the text was decoded from valid UTF-8 */
        i32vec_free(&out);
        return false;
    }
    /* Decomposed and reordered; composing the result is NFC. */
    got = utf8proc_normalize_utf32(out.v, got, opts);
    i32vec_free(text);
    out.len = got < 0 ? 0 : (size_t)got;
    *text = out;
    return got >= 0;
}
