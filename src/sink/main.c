/*
 * tapio-sink: a reference receiver for tapio-collector --server. It takes
 * StreamEvents from any number of collectors, writes every event once as a
 * JSON line and acks each batch after writing it.
 *
 *   tapio-sink --listen ADDR [--out FILE] [--token-file FILE]
 *              [--tls-cert FILE --tls-key FILE [--tls-ca FILE]] [--fsync]
 *
 * Prints "tapio-sink: listening on HOST:PORT" on stderr once ready (port 0
 * picks a free one). SIGTERM/SIGINT stop it after the batch in hand.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/sink.h"
#include "version.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *out)
{
	fputs("Usage: tapio-sink --listen ADDR [--out FILE] [--token-file FILE]\n"
	      "                  [--tls-cert FILE --tls-key FILE [--tls-ca FILE]] [--fsync]\n"
	      "\n"
	      "Receive tapio.v1 StreamEvents from tapio-collector --server, write each event as\n"
	      "a JSON line (to FILE, else stdout) and ack each batch once written. A batch\n"
	      "resent after a lost ack is written once, also across restarts with --out.\n"
	      "\n"
	      "  --listen ADDR       HOST:PORT to listen on (port 0: any free port)\n"
	      "  --out FILE          append events to FILE (default: stdout)\n"
	      "  --token-file FILE   require 'authorization: Bearer <token in FILE>'\n"
	      "  --tls-cert FILE     serve TLS with this PEM certificate chain...\n"
	      "  --tls-key FILE      ...and this PEM private key\n"
	      "  --tls-ca FILE       require client certificates signed by this PEM CA\n"
	      "  --fsync             fsync the output before each ack\n"
	      "  --max-request SIZE  largest request accepted, in bytes (default 16777216)\n",
	      out);
}

static void ready(int port, void *ctx)
{
	const char *listen = ctx;
	const char *colon = strrchr(listen, ':');

	fprintf(stderr, "tapio-sink: listening on %.*s:%d\n",
		colon ? (int)(colon - listen) : (int)strlen(listen), listen, port);
	fflush(stderr);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "out", required_argument, NULL, 'o' },
		{ "token-file", required_argument, NULL, 't' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "tls-ca", required_argument, NULL, 'A' },
		{ "fsync", no_argument, NULL, 'f' },
		{ "max-request", required_argument, NULL, 'm' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tp_sink_opts o = { .max_request_bytes = 16u << 20 };
	struct sigaction sa;
	char err[512];
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': o.listen = optarg; break;
		case 'o': o.out_path = optarg; break;
		case 't': o.token_file = optarg; break;
		case 'C': o.tls_cert = optarg; break;
		case 'K': o.tls_key = optarg; break;
		case 'A': o.tls_ca = optarg; break;
		case 'f': o.fsync = true; break;
		case 'm': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);

			if (*end || v < 1024 || v > (1u << 30)) {
				fprintf(stderr, "tapio-sink: --max-request: expected bytes from 1024 "
						"to 1073741824\n");
				return 2;
			}
			o.max_request_bytes = v;
			break;
		}
		case 'V': printf("tapio-sink %s\n", TAPIO_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "tapio-sink: unknown or incomplete option '%s' (try --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tapio-sink: unexpected argument '%s' (try --help)\n", argv[optind]);
		return 2;
	}
	if (!o.listen) {
		fprintf(stderr, "tapio-sink: --listen ADDR is required (try --help)\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (tp_sink_run(&o, &stop, ready, (void *)o.listen, err, sizeof(err)) < 0) {
		fprintf(stderr, "tapio-sink: %s\n", err);
		return 1;
	}
	return 0;
}
