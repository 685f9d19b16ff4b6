#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/util.h"
#include "web/form.h"
#include "web/session.h"

void
session_load(struct app *a, const struct req *rq, struct session *s)
{
	struct store_session	 ss;
	char			 id[CRYPTO_SECRET_LEN + 1];
	double			 now = util_now(), exp;

	memset(s, 0, sizeof(*s));
	if (form_cookie(req_param(rq, "HTTP_COOKIE"), SESSION_COOKIE, id,
	    sizeof(id)) == -1 || strlen(id) != CRYPTO_SECRET_LEN ||
	    app_store(a) == -1)
		return;
	crypto_digest(id, s->id_hash);
	crypto_wipe(id, sizeof(id));
	if (store_session_get(&a->store, s->id_hash, now, &ss) != 0)
		return;
	s->valid = 1;
	s->user_id = ss.user_id;
	memcpy(s->user, ss.user, sizeof(s->user));
	memcpy(s->csrf, ss.csrf, sizeof(s->csrf));
	/* Idle expiry moves on, never past the absolute limit. */
	exp = now + SESSION_IDLE_S;
	if (exp > ss.created_at + SESSION_MAX_S)
		exp = ss.created_at + SESSION_MAX_S;
	if (exp - ss.expires_at > 60)
		store_session_touch(&a->store, s->id_hash, exp);
}

long
session_wait(long long failures, double last_failure_at, double now)
{
	double	 wait = SESSION_FIRST_WAIT_S, left;
	long long n;

	if (failures < SESSION_FREE_FAILURES)
		return 0;
	for (n = SESSION_FREE_FAILURES; n < failures && wait <
	    SESSION_MAX_WAIT_S; n++)
		wait *= 2;
	if (wait > SESSION_MAX_WAIT_S)
		wait = SESSION_MAX_WAIT_S;
	left = last_failure_at + wait - now;
	return left > 0 ? (long)left + 1 : 0;
}

/*
 * Spends the time of a real check on an unknown user, so the answer's
 * timing does not tell which user names exist.
 */
static void
fake_verify(const char *password)
{
	static char	*dummy;

	if (dummy == NULL)
		dummy = crypto_pw_hash("pbsync: no such user");
	if (dummy != NULL)
		crypto_pw_verify(dummy, password);
}

/* Stores a fresh session for user id and fills s and cookie: 0 or -1. */
static int
start(struct app *a, long long uid, const char *name, struct session *s,
    char cookie[CRYPTO_SECRET_LEN + 1])
{
	char	 csrf[CRYPTO_SECRET_LEN + 1];
	double	 now = util_now();

	memset(s, 0, sizeof(*s));
	crypto_random_secret(cookie);
	crypto_random_secret(csrf);
	crypto_digest(cookie, s->id_hash);
	store_session_prune(&a->store, now);
	if (store_session_add(&a->store, s->id_hash, uid, csrf, now,
	    now + SESSION_IDLE_S) != 0) {
		crypto_wipe(cookie, CRYPTO_SECRET_LEN + 1);
		return -1;
	}
	s->valid = 1;
	s->user_id = uid;
	snprintf(s->user, sizeof(s->user), "%s", name);
	snprintf(s->csrf, sizeof(s->csrf), "%s", csrf);
	return 0;
}

enum session_login
session_login(struct app *a, const char *user, const char *password,
    struct session *s, char cookie[CRYPTO_SECRET_LEN + 1], long *wait_s)
{
	struct store_admin	 ad;
	enum session_login	 rc;
	double			 now = util_now();
	int			 found;

	*wait_s = 0;
	memset(s, 0, sizeof(*s));
	if (app_store(a) == -1)
		return SESSION_ERROR;
	if ((found = store_admin_get(&a->store, user, &ad)) == -1)
		return SESSION_ERROR;
	if (found == STORE_NOTFOUND) {
		fake_verify(password);
		/* The name is not logged: people type passwords there. */
		log_info("admin login refused: unknown user name");
		return SESSION_BAD;
	}
	if ((*wait_s = session_wait(ad.failures, ad.last_failure_at,
	    now)) > 0) {
		log_warn("admin login for \"%s\" refused unchecked: %lld "
		    "failures, %lds to wait", ad.name, ad.failures, *wait_s);
		store_admin_release(&ad);
		return SESSION_THROTTLED;
	}
	if (!crypto_pw_verify(ad.pw_hash, password)) {
		store_admin_failed(&a->store, ad.id, now);
		log_warn("admin login for \"%s\": wrong password (%lld in a "
		    "row)", ad.name, ad.failures + 1);
		*wait_s = session_wait(ad.failures + 1, now, now);
		store_admin_release(&ad);
		return SESSION_BAD;
	}
	rc = SESSION_OK;
	if (store_admin_succeeded(&a->store, ad.id) != 0 ||
	    start(a, ad.id, ad.name, s, cookie) == -1)
		rc = SESSION_ERROR;
	else
		log_info("admin \"%s\" logged in", ad.name);
	store_admin_release(&ad);
	return rc;
}

void
session_end(struct app *a, const struct session *s)
{
	if (s->id_hash[0] != '\0' && app_store(a) == 0)
		store_session_delete(&a->store, s->id_hash);
}

int
session_csrf_ok(const struct session *s, const char *token)
{
	size_t	 n = strlen(s->csrf);

	return s->valid && n > 0 && token != NULL && strlen(token) == n &&
	    crypto_equal(s->csrf, token, n);
}

int
session_insecure_ok(const char *u)
{
	static const char *hosts[] = { "127.0.0.1", "localhost", "[::1]" };
	size_t	 i, n;

	if (u == NULL || strncasecmp(u, "http://", 7) != 0)
		return 0;
	u += 7;
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		n = strlen(hosts[i]);
		if (strncasecmp(u, hosts[i], n) == 0 &&
		    (u[n] == '\0' || u[n] == ':' || u[n] == '/'))
			return 1;
	}
	return 0;
}

int
session_cookie(const struct app *a, struct resp *rs, const char *name,
    const char *value)
{
	char	 h[256];

	if ((size_t)snprintf(h, sizeof(h), "%s=%s; Path=/admin; HttpOnly; "
	    "SameSite=Strict%s%s", name, value != NULL ? value : "",
	    value == NULL ? "; Max-Age=0" : "",
	    session_insecure_ok(a->conf.public_url) ? "" : "; Secure") >=
	    sizeof(h))
		return -1;
	return resp_header(rs, "Set-Cookie", h);
}
