/* Text from disk and the network on its way out: invalid UTF-8 replaced
 * by U+FFFD (JSON, Markdown and Prometheus need valid UTF-8; a folder
 * named with byte 0xff must not empty the whole report), and control
 * characters escaped for a terminal (a crafted name must not move the
 * cursor or draw a fake line). */
#ifndef SC_TEXT_H
#define SC_TEXT_H

#include <stdbool.h>
#include <stddef.h>


/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 if invalid or
 * cut short by n. */
size_t sc_utf8_seq(const unsigned char *s, size_t n);
bool sc_utf8_valid(const char *s, size_t n);

/* A copy of s with every invalid sequence replaced by U+FFFD. */
char *sc_utf8_dup(const char *s);


/* A copy of s for a terminal: invalid UTF-8 as U+FFFD, ESC as "\e", other
 * C0 and C1 controls and DEL as "\xNN" (tab kept when keep_tab). */
char *sc_term_escape(const char *s, bool keep_tab);

/* The longest prefix of s (of length n) that does not end inside a UTF-8
 * sequence, for text cut to a buffer. */
size_t sc_utf8_trim(const char *s, size_t n);

#endif
