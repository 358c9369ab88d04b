/*
 * termsafe — see termsafe.h.  Works on UTF-8 bytes; malformed sequences are
 * left alone (they are not controls, and the daemon scrubs them to '?').
 */
#include "termsafe.h"

size_t term_unsafe_len(const char *s, bool keep_lines)
{
    const unsigned char *p = (const unsigned char *)s;
    if (p[0] < 0x20)
        return keep_lines && (p[0] == '\n' || p[0] == '\t') ? 0 : 1;
    if (p[0] == 0x7f)
        return 1;
    if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) /* C1: U+0080..U+009F */
        return 2;
    if (p[0] == 0xE2 && p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE) /* U+202A..U+202E */
        return 3;
    if (p[0] == 0xE2 && p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9) /* U+2066..U+2069 */
        return 3;
    return 0;
}

size_t term_strip(char *s, bool keep_lines)
{
    size_t removed = 0;
    char *w = s;
    for (const char *r = s; *r;) {
        size_t k = term_unsafe_len(r, keep_lines);
        if (k) {
            r += k;
            removed++;
            continue;
        }
        *w++ = *r++;
    }
    *w = '\0';
    return removed;
}
