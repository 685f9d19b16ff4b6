/*
 * session: admin login, sessions and CSRF tokens (DESIGN §6).
 *
 * Passwords are Argon2id hashes (crypto_pw_verify).  A session id is 256
 * random bits sent as a cookie and stored only as its BLAKE2b hash, with a
 * CSRF token, an idle expiry that each request pushes back and an absolute
 * one.  A login always makes a new id, so an id planted before the login
 * is worth nothing (session fixation).  After SESSION_FREE_FAILURES wrong
 * passwords in a row for a user, further attempts are refused unchecked
 * for a wait that doubles with each failure, up to SESSION_MAX_WAIT_S.
 *
 * The cookie is HttpOnly, SameSite=Strict, Path=/admin and Secure; Secure
 * is left out only when public_url is plain http on a loopback host, where
 * a browser would otherwise drop the cookie during local trials.
 *
 * Logins are throttled per typed name and client address, and per address
 * (SESSION_ADDR_FREE_FAILURES), so guesses from one place lock nobody out
 * elsewhere; a try is counted before its password is checked, and a name
 * that does not exist is treated like one that does.  A browser that
 * logged in as a user keeps a device cookie that lets it log in as that
 * user through a lockout.
 */
#ifndef PBSYNC_SESSION_H
#define PBSYNC_SESSION_H

#include "app/app.h"
#include "base/crypto.h"
#include "web/req.h"
#include "web/resp.h"

#define SESSION_COOKIE		"pbsync_session"
#define SESSION_LOGIN_COOKIE	"pbsync_login"	/* login form CSRF */
#define SESSION_DEVICE_COOKIE	"pbsync_device"	/* logged in here before */
#define SESSION_DEVICE_S	(365L * 86400)
#define SESSION_ADDR_FREE_FAILURES 20
#define SESSION_IDLE_S		(2 * 3600)
#define SESSION_MAX_S		(12 * 3600)
#define SESSION_FREE_FAILURES	5
#define SESSION_FIRST_WAIT_S	30
#define SESSION_MAX_WAIT_S	900

struct session {
	int		 valid;
	long long	 user_id;
	char		 user[65];
	char		 csrf[64];
	char		 id_hash[CRYPTO_HASH_LEN + 1];
};

enum session_login {
	SESSION_OK,
	SESSION_BAD,		/* unknown user or wrong password */
	SESSION_THROTTLED,	/* too many failures: wait */
	SESSION_ERROR		/* store or memory: see the log */
};

/*
 * Finds the session named by the request's cookie and pushes its idle
 * expiry back.  Always fills s; s->valid says whether one was found.
 */
void	 session_load(struct app *, const struct req *, struct session *);
/* One login try. */
struct session_try {
	const char	*user;
	const char	*password;
	const char	*addr;		/* the client's address */
	const char	*device;	/* its device cookie, or NULL */
};

/*
 * Checks user and password, honouring the throttle.  On SESSION_OK, a new
 * session is stored, s is filled and cookie holds the value to set, and
 * device a new device cookie to set (or "").  On SESSION_THROTTLED,
 * *wait_s says how long until the next try counts.
 */
enum session_login session_login(struct app *, const struct session_try *,
	    struct session *s, char cookie[CRYPTO_SECRET_LEN + 1],
	    char device[CRYPTO_SECRET_LEN + 1], long *wait_s);
/* Deletes the session (logout, or an old one replaced at login). */
void	 session_end(struct app *, const struct session *);
/* 1 if token is the session's CSRF token (constant time). */
int	 session_csrf_ok(const struct session *, const char *token);
/* Seconds a user with this many failures must still wait at now. */
long	 session_wait(long long failures, double last_failure_at, double now);
/* 1 when the cookie may go without Secure (http on loopback). */
int	 session_insecure_ok(const char *public_url);
/*
 * Cookie names are given without their prefix: "__Host-" is added where
 * the cookies are Secure (see session_insecure_ok), with Path=/.
 * session_read_cookie copies the request's cookie into out: 0 or -1.
 */
int	 session_read_cookie(const struct app *, const struct req *,
	    const char *name, char *out, size_t size);
/*
 * Adds a Set-Cookie header for name (value NULL: expire it) with the
 * attributes above: 0 or -1.
 */
int	 session_cookie(const struct app *, struct resp *, const char *name,
	    const char *value);
/* The device cookie, kept SESSION_DEVICE_S. */
int	 session_device_cookie(const struct app *, struct resp *,
	    const char *value);

/*
 * The role ("admin", "viewer") of the API token in the request's
 * "Authorization: Bearer" header: 0, or -1 for none or an unknown one.
 */
int	 session_bearer_role(struct app *, const struct req *, char role[16]);

#endif
