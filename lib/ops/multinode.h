/* One model across several boxes with the engines' own multi-node
 * runtimes: rank 0 here (it serves HTTP), the others started over SSH on
 * their nodes, every rank listed in the head's state file, and a watcher
 * in the head's process group that stops all of them when one dies (a
 * surviving rank would hang in NCCL). */
#ifndef SC_MULTINODE_H
#define SC_MULTINODE_H

#include "../base/err.h"
#include "../base/registry.h"
#include "../engine/engine.h"
#include "../engine/state.h"

/* Every node checked before anything starts: reachable over SSH, the
 * checkpoint there with the same files and sizes and the same scan
 * verdict, the interface up with its address, free memory for its share
 * (need_per_node bytes). <0 on the first node that fails, naming it; a
 * link below MTU 9000 works, slower: a warning. */
int sc_multinode_preflight(const struct registry *reg, const struct reg_model *rm, uint64_t need_per_node,
			   char ***warnings, size_t *n_warnings, sc_err *e);

/* Add rank 0's flags and link variables to l (the head's command), and
 * start ranks 1..N-1 on their nodes; st->ranks lists them. On failure the
 * ranks started are stopped again. */
int sc_multinode_start(const struct registry *reg, const struct reg_model *rm, struct launch *l, struct run_state *st,
		       sc_err *e);

/* Stop the ranks of st on their nodes, each tried three times; <0 when a
 * node could not be reached (every other node is still stopped). */
int sc_multinode_stop(const struct registry *reg, const struct run_state *st, sc_err *e);

/* The first rank of st that is gone: its index, -1 when all live; <0 is
 * never returned for a node that cannot be reached (it counts as live
 * until reached: unreachable is not dead). */
int sc_multinode_dead_rank(const struct registry *reg, const struct run_state *st, char *why, size_t len);

/* The last lines of every rank's log, each under its node's name. */
char *sc_multinode_tails(const struct registry *reg, const struct run_state *st, unsigned lines);

/* Watch the ranks of a running model until one dies (or its head does):
 * then stop them all and return 1 with why; 0 when the model was stopped
 * meanwhile. interval_ms between checks. */
int sc_multinode_watch(const struct registry *reg, const char *name, int interval_ms, char *why, size_t len, sc_err *e);

#endif
