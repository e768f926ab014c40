/* A command-line face of src/http/ for tests/http.sh: performs one request
 * and prints what came back, one key=value per line. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "util.h"

static int cancel_pipe[2];
static int cancel_after_ms = -1;

static void *
canceller(void *arg)
{
	(void)arg;
	usleep((useconds_t)cancel_after_ms * 1000);
	if (write(cancel_pipe[1], "x", 1) != 1)
		abort();
	return NULL;
}

int
main(int argc, char **argv)
{
	struct http_request rq;
	struct http_response rs;
	struct http_header hdr = { "Accept", "text/xml" };
	pthread_t t;
	int64_t t0;
	int i;

	http_request_init(&rq, NULL);
	for (i = 1; i < argc - 1; i++) {
		if (!strcmp(argv[i], "--ca"))
			rq.ca_file = argv[++i];
		else if (!strcmp(argv[i], "--timeout"))
			rq.timeout_ms = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--max"))
			rq.max_body = (size_t)atol(argv[++i]);
		else if (!strcmp(argv[i], "--redirects"))
			rq.max_redirects = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--allow-http"))
			rq.allow_http = true;
		else if (!strcmp(argv[i], "--sensitive"))
			rq.sensitive = true;
		else if (!strcmp(argv[i], "--accept")) {
			rq.headers = &hdr;
			rq.nheaders = 1;
		} else if (!strcmp(argv[i], "--post")) {
			rq.post_body = argv[++i];
			rq.post_len = strlen(rq.post_body);
		} else if (!strcmp(argv[i], "--cancel-after"))
			cancel_after_ms = atoi(argv[++i]);
		else
			break;
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: http_get [options] URL\n");
		return 2;
	}
	rq.url = argv[i];
	if (cancel_after_ms >= 0) {
		if (pipe(cancel_pipe) != 0 || pthread_create(&t, NULL, canceller, NULL) != 0)
			return 2;
		rq.cancel_fd = cancel_pipe[0];
	}
	t0 = now_ms();
	http_perform(&rq, &rs);
	printf("result=%s\nstatus=%ld\nlen=%zu\nredirects=%d\nms=%lld\n",
	       http_result_name(rs.result), rs.status, rs.len, rs.redirects,
	       (long long)(now_ms() - t0));
	printf("type=%s\nlocation=%s\nwhy=%s\n", rs.content_type, rs.location, rs.why);
	if (rs.body)
		printf("body=%.200s\n", rs.body);
	http_response_free(&rs);
	if (cancel_after_ms >= 0)
		pthread_join(t, NULL);
	return 0;
}
