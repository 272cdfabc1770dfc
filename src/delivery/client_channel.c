/*
 * The bearer token (read again at every call) and the gRPC channel: TLS
 * credentials and the channel arguments that follow our backoff.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/client_internal.h"
#include "util/file.h"
#include "util/time.h"
#include "util/trusted.h"
#include "version.h"

/* Read the token file (util/file.h); a token too long for a header buffer
 * leaves the client without one. */
int tp_client_load_token(struct tp_client *c, char *err, size_t errlen)
{
	int r;

	if (!c->o.token_file)
		return 0;
	r = tp_read_bearer_token(c->o.token_file, c->token, sizeof(c->token), err, errlen);
	if (r == -E2BIG) {
		c->have_token = false;
		return -EINVAL;
	}
	if (r == 0)
		c->have_token = true;
	return r;
}

int tp_client_make_channel(struct tp_client *c, char *err, size_t errlen)
{
	grpc_channel_credentials *creds;
	char *ca = NULL, *cert = NULL, *key = NULL;
	size_t n;
	int r = 0;
	grpc_arg args[8];
	int nargs = 0;
	grpc_channel_args ch_args;
	const char *files[3] = { c->o.tls_ca, c->o.tls_cert, c->o.tls_key };
	char **bufs[3] = { &ca, &cert, &key };
	/* A key or CA someone else can change is a server someone else picks. */
	struct tp_trusted_opts topts = { .max_bytes = PEM_MAX };
	char terr[1024];

	if (!!c->o.tls_cert != !!c->o.tls_key) {
		snprintf(err, errlen, "a TLS client certificate needs both a certificate and a key");
		return -EINVAL;
	}
	for (int i = 0; i < 3; i++) {
		if (!files[i])
			continue;
		r = tp_trusted_read(files[i], &topts, bufs[i], &n, terr, sizeof(terr));
		if (r < 0) {
			snprintf(err, errlen, "TLS file %s", terr);
			goto out;
		}
	}
	if (ca || cert) {
		grpc_ssl_pem_key_cert_pair pair = { .private_key = key, .cert_chain = cert };

		creds = grpc_ssl_credentials_create(ca, cert ? &pair : NULL, NULL, NULL);
	} else {
		creds = grpc_insecure_credentials_create();
	}
	if (!creds) {
		snprintf(err, errlen, "cannot set up credentials for %s", c->o.target);
		r = -EINVAL;
		goto out;
	}

#define INT_ARG(k, v) \
	args[nargs++] = (grpc_arg){ .type = GRPC_ARG_INTEGER, .key = (char *)(k), .value.integer = (v) }
	INT_ARG(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, (int)c->o.max_response_bytes);
	INT_ARG(GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, -1);
	/* The channel's own reconnect backoff follows ours, so a server that
	 * is back is found within one of our backoff steps. */
	INT_ARG(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, (int)(c->o.backoff_min_ns / TP_NSEC_PER_MSEC));
	INT_ARG(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, (int)(c->o.backoff_min_ns / TP_NSEC_PER_MSEC));
	INT_ARG(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, (int)(c->o.backoff_max_ns / TP_NSEC_PER_MSEC));
	/* Find a dead peer on an idle stream; no more often than default
	 * servers allow (5 minutes) to avoid GOAWAY too_many_pings. */
	INT_ARG(GRPC_ARG_KEEPALIVE_TIME_MS, 300000);
	INT_ARG(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
	args[nargs++] = (grpc_arg){ .type = GRPC_ARG_STRING,
				    .key = (char *)GRPC_ARG_PRIMARY_USER_AGENT_STRING,
				    .value.string = (char *)"tapio-collector/" TAPIO_VERSION };
#undef INT_ARG
	ch_args.num_args = (size_t)nargs;
	ch_args.args = args;
	c->channel = grpc_channel_create(c->o.target, creds, &ch_args);
	grpc_channel_credentials_release(creds);
	if (!c->channel) {
		snprintf(err, errlen, "cannot create a gRPC channel to %s", c->o.target);
		r = -EINVAL;
	}
out:
	free(ca);
	free(cert);
	free(key);
	return r;
}
