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
	if (session_read_cookie(a, rq, SESSION_COOKIE, id, sizeof(id)) == -1 || strlen(id) != CRYPTO_SECRET_LEN ||
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

/* The wait after failures of which the first free ones cost nothing. */
static long
wait_after(long long free, long long failures, double last_failure_at,
    double now)
{
	double	 wait = SESSION_FIRST_WAIT_S, left;
	long long n;

	if (failures < free)
		return 0;
	for (n = free; n < failures && wait < SESSION_MAX_WAIT_S; n++)
		wait *= 2;
	if (wait > SESSION_MAX_WAIT_S)
		wait = SESSION_MAX_WAIT_S;
	left = last_failure_at + wait - now;
	return left > 0 ? (long)left + 1 : 0;
}

long
session_wait(long long failures, double last_failure_at, double now)
{
	return wait_after(SESSION_FREE_FAILURES, failures, last_failure_at,
	    now);
}

/*
 * The throttle keys of a try: the typed name, hashed (people type
 * passwords there), with the client's address; and the address alone.
 */
static void
throttle_keys(const char *user, const char *addr, char *ukey, char *akey,
    size_t len)
{
	char	 h[CRYPTO_HASH_LEN + 1];

	crypto_digest(user, h);
	snprintf(ukey, len, "u:%s|%s", h, addr);
	snprintf(akey, len, "a:%s", addr);
}

/* 1 if the browser's device cookie was given to this user at a login. */
static int
trusted(struct app *a, const char *device, long long uid)
{
	char	 h[CRYPTO_HASH_LEN + 1];

	if (device == NULL || strlen(device) != CRYPTO_SECRET_LEN)
		return 0;
	crypto_digest(device, h);
	return store_device_of(&a->store, h, uid) == 1;
}

struct try {
	const char	*ukey, *akey;
	int		 vouched;
	double		 now;
	long long	 failures;	/* under ukey */
	long		 wait;
};

/*
 * Looks at the counts of both keys and counts the try when no wait is
 * due: 0, 1 (a wait: nothing written) or -1.
 */
static int
try_rows(struct store *s, void *arg)
{
	struct try	*t = arg;
	const char	*ukey = t->ukey, *akey = t->akey;
	int		 vouched = t->vouched;
	double		 now = t->now, lu, la;
	long long	 fa;
	long		 wait, wa;

	if (store_login_get(s, ukey, &t->failures, &lu) == -1 ||
	    store_login_get(s, akey, &fa, &la) == -1)
		return -1;
	wait = vouched ? 0 : session_wait(t->failures, lu, now);
	wa = vouched ? 0 : wait_after(SESSION_ADDR_FREE_FAILURES, fa, la, now);
	if (wa > wait)
		wait = wa;
	if ((t->wait = wait) > 0)
		return 1;
	if (store_login_failed(s, ukey, now) == -1 ||
	    store_login_failed(s, akey, now) == -1)
		return -1;
	return 0;
}

/*
 * Counts the try before the password is checked, in one transaction with
 * the look at the counts, so parallel guesses see each other; vouched
 * (the browser's device cookie is the user's) waits for nothing.  The
 * wait left (0: go on), or -1 on a store error.
 */
static long
count_try(struct app *a, const char *ukey, const char *akey, int vouched,
    double now, long long *failures)
{
	struct try	 t = { ukey, akey, vouched, now, 0, 0 };
	int		 rc = store_tx(&a->store, try_rows, &t);

	*failures = t.failures;
	return rc == 0 || rc == 1 ? t.wait : -1;
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
session_login(struct app *a, const struct session_try *t, struct session *s,
    char cookie[CRYPTO_SECRET_LEN + 1], char device[CRYPTO_SECRET_LEN + 1],
    long *wait_s)
{
	struct store_admin	 ad;
	enum session_login	 rc;
	char			 ukey[160], akey[96], h[CRYPTO_HASH_LEN + 1];
	const char		*addr = t->addr != NULL ? t->addr : "";
	double			 now = util_now();
	long long		 failures = 0;
	int			 found, vouched, ok;

	*wait_s = 0;
	device[0] = '\0';
	memset(s, 0, sizeof(*s));
	if (app_store(a) == -1)
		return SESSION_ERROR;
	if ((found = store_admin_get(&a->store, t->user, &ad)) == -1)
		return SESSION_ERROR;
	/* A name that does not exist takes the same path, throttle included. */
	vouched = found == 0 && trusted(a, t->device, ad.id);
	throttle_keys(t->user, addr, ukey, akey,
	    sizeof(ukey));
	if ((*wait_s = count_try(a, ukey, akey, vouched, now, &failures)) != 0) {
		store_admin_release(&ad);
		if (*wait_s == -1) {
			*wait_s = 0;
			return SESSION_ERROR;
		}
		log_warn("admin login from %s refused unchecked: %lld "
		    "failures, %lds to wait", addr, failures, *wait_s);
		return SESSION_THROTTLED;
	}
	if (found == 0)
		ok = crypto_pw_verify(ad.pw_hash, t->password);
	else {
		fake_verify(t->password);
		ok = 0;
	}
	if (!ok) {
		/* The name is not logged: people type passwords there. */
		log_warn("admin login from %s refused: wrong user name or "
		    "password (%lld in a row)", addr, failures + 1);
		*wait_s = vouched ? 0 : session_wait(failures + 1, now, now);
		store_admin_release(&ad);
		return SESSION_BAD;
	}
	rc = SESSION_OK;
	if (store_login_reset(&a->store, ukey) != 0 ||
	    store_login_reset(&a->store, akey) != 0 ||
	    start(a, ad.id, ad.name, s, cookie) == -1)
		rc = SESSION_ERROR;
	else
		log_info("admin \"%s\" logged in", ad.name);
	/* A browser new to this user gets its device cookie. */
	if (rc == SESSION_OK && !vouched) {
		crypto_random_secret(device);
		crypto_digest(device, h);
		if (store_device_add(&a->store, h, ad.id, now) != 0)
			device[0] = '\0';
	}
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

/*
 * The prefix of the cookie names: "__Host-" wherever the cookies are
 * Secure (every public URL but plain http on loopback), so a browser
 * takes them only from this host over https, with Path=/ and no Domain: a
 * sibling subdomain or a man in the middle on http cannot plant one.
 */
static const char *
cookie_prefix(const struct app *a)
{
	return session_insecure_ok(a->conf.public_url) ? "" : "__Host-";
}

int
session_read_cookie(const struct app *a, const struct req *rq,
    const char *name, char *out, size_t size)
{
	char	 full[64];

	if ((size_t)snprintf(full, sizeof(full), "%s%s", cookie_prefix(a),
	    name) >= sizeof(full))
		return -1;
	return form_cookie(req_param(rq, "HTTP_COOKIE"), full, out, size);
}

/* A Set-Cookie header; max_age -1 for a session cookie. */
static int
cookie_header(const struct app *a, struct resp *rs, const char *name,
    const char *value, long max_age)
{
	char	 h[256], age[32] = "";
	int	 secure = *cookie_prefix(a) != '\0';

	if (value == NULL)
		max_age = 0;
	if (max_age >= 0)
		snprintf(age, sizeof(age), "; Max-Age=%ld", max_age);
	if ((size_t)snprintf(h, sizeof(h), "%s%s=%s; Path=/; HttpOnly; "
	    "SameSite=Strict%s%s", cookie_prefix(a), name,
	    value != NULL ? value : "", age, secure ? "; Secure" : "") >=
	    sizeof(h))
		return -1;
	return resp_header(rs, "Set-Cookie", h);
}

int
session_cookie(const struct app *a, struct resp *rs, const char *name,
    const char *value)
{
	return cookie_header(a, rs, name, value, -1);
}

int
session_device_cookie(const struct app *a, struct resp *rs,
    const char *value)
{
	return cookie_header(a, rs, SESSION_DEVICE_COOKIE, value,
	    SESSION_DEVICE_S);
}

int
session_bearer_role(struct app *a, const struct req *rq, char role[16])
{
	const char	*auth = req_param(rq, "HTTP_AUTHORIZATION");
	char		 h[CRYPTO_HASH_LEN + 1];

	role[0] = '\0';
	if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0 ||
	    strlen(auth + 7) > 256 || app_store(a) == -1)
		return -1;
	crypto_digest(auth + 7, h);
	return store_token_role(&a->store, h, role) == 0 ? 0 : -1;
}
