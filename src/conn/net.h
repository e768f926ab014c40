/* Sockets owned by the probe: a resolver that can be abandoned, a
 * non-blocking connect, and reads and writes that wait with poll() on the
 * socket and a cancel descriptor until a deadline. Nothing here blocks
 * longer than the deadline or past a cancel. No third-party library. */
#ifndef FLUENZR_NET_H
#define FLUENZR_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>

struct net_conn;

/* Called with every byte read or written (plain text: after TLS). */
typedef void (*net_log_fn)(void *ud, char dir, const void *buf, size_t n);

/* How a connection's bytes move. NULL is the plain socket; a layer on top
 * of it (TLS, which moves its own records with net_raw_recv/net_raw_send)
 * installs its table and its state in layer, so that the socket code never
 * calls the layer (neomutt's Connection, curl's connection filters). */
struct net_ops {
	/* >0, 0 at EOF, -1 on error, timeout or cancel (c's flags set). */
	ssize_t (*read)(struct net_conn *c, void *buf, size_t n);
	/* Writes everything or fails: n or -1. */
	ssize_t (*write)(struct net_conn *c, const void *buf, size_t n);
	/* Ends the layer and puts the plain socket back; the socket stays open. */
	void (*close)(struct net_conn *c);
};

struct net_conn {
	int fd;                 /* -1 when closed */
	int cancel_fd;          /* readable once the run is cancelled */
	int64_t deadline;       /* now_ms() limit of the current step */
	int err;                /* errno of the last failure, 0 if none */
	bool timed_out;
	bool cancelled;
	bool eof;               /* the peer closed the connection */
	uint64_t rx_bytes;
	uint64_t step_rx;       /* bytes received since net_set_timeout() */
	const struct net_ops *ops;/* NULL while the dialogue is plain text */
	void *layer;            /* the state of ops (the TLS session) */
	net_log_fn log;
	void *log_ud;
	char peer[80];          /* "127.0.0.1:587", "[::1]:587" */
	char local[64];         /* local address, numeric */
	bool local_v6;
	unsigned char first[8]; /* first bytes received, for diagnostics */
	size_t nfirst;
};

enum net_rc {
	NET_OK = 0,
	NET_FAIL = -1,          /* err set (or gai error for resolve) */
	NET_TIMEOUT = -2,
	NET_CANCELLED = -3,
};

/* What one step may receive. A server that never stops sending (one
 * endless line, endless continuation lines, a huge IMAP literal) keeps
 * every read busy and the parser's buffers growing: past this the step's
 * reads fail with err = EMSGSIZE instead. Real replies to the probe's
 * commands, TLS certificate chains included, are far smaller. */
#define NET_STEP_RX_MAX ((uint64_t)1 << 20)

void net_conn_init(struct net_conn *c, int cancel_fd);
/* Sets the deadline of the next operations to now + seconds, and starts
 * the step's NET_STEP_RX_MAX budget afresh. */
void net_set_timeout(struct net_conn *c, int seconds);

/* getaddrinfo() in a detached helper thread: returns on time even when the
 * resolver hangs. NET_FAIL with *gai_err set, NET_TIMEOUT or NET_CANCELLED. */
int net_resolve(const char *host, unsigned port, int cancel_fd, int timeout_ms,
                struct addrinfo **out, int *gai_err);

/* Non-blocking connect to one address until the deadline. */
int net_connect(struct net_conn *c, const struct addrinfo *ai);
/* Waits until the socket is readable (or writable); NET_OK or an error. */
int net_wait(struct net_conn *c, bool for_write);
/* Reads at most n bytes (through TLS when on): >0, 0 at EOF, -1 on error,
 * timeout or cancel (flags set). */
ssize_t net_read(struct net_conn *c, void *buf, size_t n);
/* Writes everything or fails: n or -1. */
ssize_t net_write(struct net_conn *c, const void *buf, size_t n);
/* Raw socket I/O for the TLS layer (non-blocking; errno EAGAIN). A recv
 * past the deadline, after a cancel or beyond NET_STEP_RX_MAX fails with
 * errno (and err) ETIMEDOUT, ECANCELED or EMSGSIZE and the flags set: a
 * peer that sends without pause never lets a read wait, so this is where
 * its deadline holds. */
ssize_t net_raw_recv(struct net_conn *c, void *buf, size_t n);
ssize_t net_raw_send(struct net_conn *c, const void *buf, size_t n);
/* Ends the layer (TLS) if any, and closes the socket. */
void net_close(struct net_conn *c);

/* Sleeps ms milliseconds unless cancelled first: 0, or NET_CANCELLED. */
int net_sleep(int cancel_fd, int ms);

/* "host:port" / "[v6]:port" of an address. */
void net_addr_str(const struct sockaddr *sa, socklen_t len, char *out,
                  size_t outlen, bool with_port);

#endif
