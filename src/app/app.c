#include "config.h"

#include <string.h>

#include "app/app.h"
#include "app/metrics.h"
#include "base/log.h"

int
app_open(struct app *a, const char *prog)
{
	memset(a, 0, sizeof(*a));
	a->prog = prog;
	log_open(prog, LOGL_INFO, NULL);
	if (conf_load(&a->conf) == -1)
		return -1;
	if ((a->conf.log_to == LOGT_SYSLOG ? log_open_syslog(prog,
	    a->conf.log_level, a->conf.syslog_socket) : log_open(prog,
	    a->conf.log_level, a->conf.log_to == LOGT_FILE ?
	    a->conf.log_file : NULL)) == -1 ||
	    crypto_init() == -1 ||
	    http_init(&a->http, a->conf.allow_private_upstreams,
	    a->conf.http_timeout_ms) == -1) {
		conf_release(&a->conf);
		return -1;
	}
	a->http.proxy = a->conf.http_proxy;
	metrics_enable(a->conf.metrics);
	if (crypto_key_load(&a->key, a->conf.key_file) == -1)
		log_warn("tokens cannot be decrypted until the key file is "
		    "readable");
	app_store(a);
	return 0;
}

int
app_store(struct app *a)
{
	if (a->store_ok)
		return 0;
	if (store_open(&a->store, a->conf.database) == -1)
		return -1;
	a->store_ok = 1;
	return 0;
}

void
app_close(struct app *a)
{
	/* Its thread reads the configuration: it ends first. */
	metrics_stop();
	if (a->store_ok) {
		/* The counts of a CGI request, a drain, a stopping child. */
		metrics_flush(a, 1);
		store_close(&a->store);
	}
	http_release(&a->http);
	crypto_key_release(&a->key);
	conf_release(&a->conf);
	log_close();
}
