/* Who listens on a TCP port of this machine. */
#ifndef SC_PORTS_H
#define SC_PORTS_H

#include <stdbool.h>
#include <sys/types.h>

/* Does something accept connections on host:port? */
bool sc_port_listening(const char *host, int port);

/* The process holding a listening socket on port (from /proc/net/tcp{,6}
 * and /proc/PID/fd), 0 when unknown; fills comm (the process name). */
pid_t sc_port_owner(int port, char *comm, size_t len);

#endif
