/* Monotonic time for deadlines and figures, and a sleep that survives
 * signals. */
#ifndef SC_TIME_H
#define SC_TIME_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC; sc_now_msf with the fraction. */
int64_t sc_now_ms(void);
double sc_now_msf(void);
/* Sleep ms milliseconds (restarts after signals). */
void sc_sleep_ms(int ms);

#endif
