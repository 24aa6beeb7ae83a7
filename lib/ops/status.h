/* lib/ops inside: what status.c shares with serve.c. */
#ifndef SC_OPS_STATUS_H
#define SC_OPS_STATUS_H

#include <stdbool.h>

#include "serve.h"

#define HEALTH_TIMEOUT_MS 5000  /* SGLang's /health runs a one-token generation */

/* docker inspect: is the container running, and how did it exit */
bool sc_container_running(const char *name, int *exit_code);
/* Does what st describes live: its leader, or (the leader gone) members of
 * its group that started with it; a container by docker inspect. */
bool sc_state_alive(const struct run_state *st);
/* The health path of an engine ("/health" when it names none). */
const char *sc_health_path(const struct registry *reg, const char *engine);

#endif
