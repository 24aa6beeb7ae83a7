#include "ports.h"
#include "../base/util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>

bool sc_port_listening(const char *host, int port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char service[16];
	bool yes = false;
	snprintf(service, sizeof service, "%d", port);
	if (getaddrinfo(host, service, &hints, &res) != 0)
		return false;
	for (ai = res; ai && !yes; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		yes = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
		close(fd);
	}
	freeaddrinfo(res);
	return yes;
}

/* inode of a socket listening on port, from /proc/net/tcp or tcp6 */
static unsigned long listening_inode(int port)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_fclose_ FILE *f = fopen(files[i], "re");
		char line[512];
		if (!f)
			continue;
		while (fgets(line, sizeof line, f)) {
			char local[128];
			unsigned st;
			unsigned long inode;
			if (sscanf(line, " %*d: %127s %*s %x %*s %*s %*s %*d %*d %lu", local, &st, &inode) != 3)
				continue;
			const char *colon = strrchr(local, ':');
			if (st == 0x0A && colon && strtol(colon + 1, NULL, 16) == port)
				return inode;
		}
	}
	return 0;
}

pid_t sc_port_owner(int port, char *comm, size_t len)
{
	unsigned long inode = listening_inode(port);
	char want[64];
	if (comm && len)
		comm[0] = '\0';
	if (!inode)
		return 0;
	snprintf(want, sizeof want, "socket:[%lu]", inode);
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t found = 0;
	while (d && !found && (de = readdir(d))) {
		char *end, path[300], link[64];
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%ld/fd", pid);
		DIR *fds = opendir(path);
		struct dirent *fe;
		while (fds && !found && (fe = readdir(fds))) {
			snprintf(path, sizeof path, "/proc/%ld/fd/%s", pid, fe->d_name);
			ssize_t n = readlink(path, link, sizeof link - 1);
			if (n > 0) {
				link[n] = '\0';
				if (streq(link, want))
					found = (pid_t)pid;
			}
		}
		if (fds)
			closedir(fds);
	}
	if (d)
		closedir(d);
	if (found && comm && len) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/comm", (int)found);
		_cleanup_fclose_ FILE *f = fopen(path, "re");
		if (f && fgets(comm, (int)len, f))
			comm[strcspn(comm, "\n")] = '\0';
	}
	return found;
}
